import { describe, expect, it } from 'vitest';
import type { UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { createMetadataTokenSource } from './metadata-token.js';

const reply = (status: number, body: unknown): UpstreamResponse => ({ status, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });

describe('createMetadataTokenSource', () => {
  it('asks the metadata server with its header once for concurrent callers, and keeps the token until near its expiry', async () => {
    const sent: UpstreamRequest[] = [];
    let now = 0;
    const send = async (request: UpstreamRequest) => {
      sent.push(request);
      return reply(200, { access_token: `token-${sent.length}`, expires_in: 3600, token_type: 'Bearer' });
    };
    const source = createMetadataTokenSource('metadata.test:8080');
    const context = { send, now: () => now };
    expect(await Promise.all([source.getToken(context), source.getToken(context)])).toEqual(['token-1', 'token-1']);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'GET', url: 'http://metadata.test:8080/computeMetadata/v1/instance/service-accounts/default/token', headers: { 'metadata-flavor': 'Google' } });
    now = 3600_000 - 5 * 60_000 - 1;
    expect(await source.getToken(context)).toBe('token-1');
    now += 1;
    expect(await source.getToken(context)).toBe('token-2');
  });

  it('lets the caller that started the request leave without cancelling it for the others', async () => {
    let answer: ((response: UpstreamResponse) => void) | undefined;
    const controller = new AbortController();
    // As the core's send does, the first caller's requests are cancelled with its signal unless given another.
    const send = (request: UpstreamRequest, signal: AbortSignal | undefined = controller.signal) =>
      new Promise<UpstreamResponse>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        answer = resolve;
      });
    const source = createMetadataTokenSource();
    const leaving = source.getToken({ send, now: () => 0, signal: controller.signal }).catch((error: unknown) => error);
    const staying = source.getToken({ send, now: () => 0 });
    controller.abort(new Error('client went away'));
    expect(await leaving).toEqual(new Error('client went away'));
    answer!(reply(200, { access_token: 'shared', expires_in: 3600 }));
    expect(await staying).toBe('shared');
  });

  it("reports the server's refusal as Google's, and asks again on the next call", async () => {
    let answer = reply(404, { error: 'not_found', error_description: 'No service account on this instance' });
    const source = createMetadataTokenSource();
    const context = { send: async () => answer, now: () => 0 };
    const failure = (await source.getToken(context).catch((error: unknown) => error)) as Error;
    expect(failure).toMatchObject({ status: 401, code: 'upstream_token_refused' });
    expect(failure.message).toBe("Google's metadata server answered HTTP 404 (not_found: No service account on this instance).");
    answer = reply(200, { access_token: 'after', expires_in: 60 });
    expect(await source.getToken(context)).toBe('after');
  });
});
