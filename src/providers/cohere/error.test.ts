import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCohereError } from './error.js';

function reply(status: number, body: string, headers: Record<string, string> = {}) {
  return { status, headers, body: new TextEncoder().encode(body) };
}

describe('parseCohereError', () => {
  it('relays the documented invalid-token message as a 401', () => {
    const body = readFileSync(new URL('./fixtures/error-invalid-token.json', import.meta.url), 'utf8');
    expect(parseCohereError(reply(401, body))).toEqual({ status: 401, type: 'authentication_error', code: 'invalid_api_key', message: 'invalid api token' });
    expect(parseCohereError(reply(498, body)).status).toBe(401);
  });

  it('maps statuses per the cross-provider table', () => {
    const cases: Array<[number, number, string]> = [
      [400, 400, 'invalid_request_error'],
      [422, 400, 'invalid_request_error'],
      [402, 402, 'payment_required'],
      [403, 403, 'permission_error'],
      [404, 404, 'not_found_error'],
      [429, 429, 'rate_limit_error'],
      [499, 502, 'server_error'],
      [500, 502, 'server_error'],
      [503, 503, 'service_unavailable_error'],
      [504, 504, 'timeout_error'],
      [418, 400, 'invalid_request_error'],
    ];
    for (const [upstream, status, type] of cases) {
      expect(parseCohereError(reply(upstream, '{"message":"m"}'))).toMatchObject({ status, type, message: 'm' });
    }
  });

  it('recognises model and context-length messages and keeps retry-after on 429', () => {
    expect(parseCohereError(reply(404, '{"message":"model \'nope\' not found"}')).code).toBe('model_not_found');
    expect(parseCohereError(reply(400, '{"message":"too many tokens: total number of tokens exceeds 128000"}')).code).toBe('context_length_exceeded');
    expect(parseCohereError(reply(429, '{"message":"slow down"}', { 'retry-after': '3' })).retryAfterMs).toBe(3000);
  });

  it('describes bodies that are not JSON', () => {
    expect(parseCohereError(reply(502, '<html>bad gateway</html>')).message).toBe('Cohere answered HTTP 502: <html>bad gateway</html>');
    expect(parseCohereError(reply(500, '')).message).toBe('Cohere answered HTTP 500.');
  });
});
