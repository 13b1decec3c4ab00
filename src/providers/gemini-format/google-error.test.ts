import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../spec/provider.js';
import { parseGoogleError } from './google-error.js';

function reply(status: number, body: string, headers: Record<string, string> = {}): UpstreamResponse {
  return { status, headers, body: new TextEncoder().encode(body) };
}

function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

describe('parseGoogleError', () => {
  it('treats the Gemini API invalid-key 400 as an authentication error', () => {
    expect(parseGoogleError(reply(400, fixture('error-api-key-invalid.json')))).toEqual({
      status: 401,
      type: 'authentication_error',
      code: 'invalid_api_key',
      message: 'API key not valid. Please pass a valid API key.',
    });
  });

  it('maps RESOURCE_EXHAUSTED to a rate limit with the RetryInfo delay, preferring a retry-after header', () => {
    expect(parseGoogleError(reply(429, fixture('error-resource-exhausted.json')))).toMatchObject({
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      retryAfterMs: 17_000,
    });
    expect(parseGoogleError(reply(429, fixture('error-resource-exhausted.json'), { 'retry-after': '3' })).retryAfterMs).toBe(3000);
  });

  it('maps statuses per the reference table', () => {
    const cases: Array<[number, string, number, string]> = [
      [400, 'INVALID_ARGUMENT', 400, 'invalid_request_error'],
      [401, 'UNAUTHENTICATED', 401, 'authentication_error'],
      [403, 'PERMISSION_DENIED', 403, 'permission_error'],
      [404, 'NOT_FOUND', 404, 'not_found_error'],
      [500, 'INTERNAL', 502, 'server_error'],
      [503, 'UNAVAILABLE', 503, 'service_unavailable_error'],
      [504, 'DEADLINE_EXCEEDED', 504, 'timeout_error'],
    ];
    for (const [status, googleStatus, expectedStatus, expectedType] of cases) {
      const body = JSON.stringify({ error: { code: status, message: `m${status}`, status: googleStatus } });
      expect(parseGoogleError(reply(status, body))).toMatchObject({ status: expectedStatus, type: expectedType, message: `m${status}` });
    }
  });

  it('never repeats the secret in a message', () => {
    const body = JSON.stringify({ error: { code: 400, message: 'Bad key AIzaSECRET123 given', status: 'INVALID_ARGUMENT' } });
    expect(parseGoogleError(reply(400, body), { secrets: ['AIzaSECRET123'] }).message).toBe('Bad key [redacted] given');
  });

  it('copes with bodies that are not Google errors', () => {
    expect(parseGoogleError(reply(502, '<html>Bad Gateway</html>'))).toEqual({
      status: 502,
      type: 'server_error',
      code: 'upstream_error',
      message: 'The upstream answered HTTP 502.',
    });
    expect(parseGoogleError(reply(400, '[{"error":{"code":400,"message":"wrapped","status":"INVALID_ARGUMENT"}}]')).message).toBe('wrapped');
  });
});
