import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { routeConfigOf } from './route-config.js';

function fakeRequest(config: unknown): { request: FastifyRequest; reads: () => number } {
  let reads = 0;
  const request = { routeConfig: null } as unknown as FastifyRequest;
  Object.defineProperty(request, 'routeOptions', {
    get() {
      reads += 1;
      return { url: '/ignored', config };
    },
  });
  return { request, reads: () => reads };
}

describe('routeConfigOf', () => {
  it("reads Fastify's route options once per request and answers the route's config each time", () => {
    const config = { access: 'inference', url: '/v1/chat/completions', method: 'POST' };
    const { request, reads } = fakeRequest(config);
    expect(routeConfigOf(request)).toBe(config);
    expect(routeConfigOf(request)).toBe(config);
    expect(routeConfigOf(request).url).toBe('/v1/chat/completions');
    expect(reads()).toBe(1);
  });

  it('answers an empty config for a request that matched no route config', () => {
    const { request } = fakeRequest(undefined);
    expect(routeConfigOf(request)).toEqual({});
    expect(routeConfigOf(request).access).toBeUndefined();
  });
});
