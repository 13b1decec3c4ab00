import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseReplicateError, replicateErrorToThrow } from './error.js';

function reply(status: number, body: string, headers: Record<string, string> = {}) {
  return { status, headers, body: new TextEncoder().encode(body) };
}
function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

describe('parseReplicateError', () => {
  it('relays problem details: detail first, with invalid fields', () => {
    expect(parseReplicateError(reply(401, fixture('error-unauthenticated.json')))).toEqual({
      status: 401,
      type: 'authentication_error',
      code: 'invalid_api_key',
      message: 'You did not pass a valid authentication token',
    });
    const invalid = parseReplicateError(reply(422, fixture('error-input-validation.json')));
    expect(invalid).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(invalid.message).toContain('prompt is required');
    expect(invalid.message).toContain('"field":"input"');
  });

  it('maps statuses and keeps retry-after on throttling', () => {
    const cases: Array<[number, number, string]> = [
      [402, 402, 'payment_required'],
      [403, 403, 'permission_error'],
      [404, 404, 'not_found_error'],
      [409, 409, 'conflict_error'],
      [500, 502, 'server_error'],
      [503, 503, 'service_unavailable_error'],
      [504, 504, 'timeout_error'],
    ];
    for (const [upstream, status, type] of cases) {
      expect(parseReplicateError(reply(upstream, '{"title":"t","status":0}'))).toMatchObject({ status, type, message: 't' });
    }
    const throttled = parseReplicateError(reply(429, '{"title":"Request was throttled","detail":"Expected available in 2 seconds.","status":429}', { 'retry-after': '2' }));
    expect(throttled).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 2000, message: 'Expected available in 2 seconds.' });
    expect(parseReplicateError(reply(502, 'upstream connect error')).message).toBe('Replicate answered HTTP 502: upstream connect error');
  });

  it('builds throwable upstream errors, retryable only for 429 and 5xx', () => {
    expect(replicateErrorToThrow(reply(429, '{"detail":"slow"}'))).toMatchObject({ status: 429, upstream: true, retryable: true });
    expect(replicateErrorToThrow(reply(422, '{"detail":"bad"}'))).toMatchObject({ status: 400, upstream: true, retryable: false });
  });
});
