import { describe, expect, it } from 'vitest';
import type { UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { DETACHED_SIGNAL } from '../../spec/until-aborted.js';
import { googleTokenRefused, readOAuthTokenReply, sendForToken } from './token-endpoint.js';

const reply = (status: number, body: unknown): UpstreamResponse => ({
  status,
  headers: {},
  body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
});

describe('sendForToken', () => {
  it('sends with the detached signal, so that no caller cancels a fetch others wait for', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const send = async (_request: UpstreamRequest, signal?: AbortSignal) => {
      signals.push(signal);
      return reply(200, {});
    };
    await sendForToken(send, { method: 'GET', url: 'http://token.test', headers: {} }, 'the endpoint');
    expect(signals).toEqual([DETACHED_SIGNAL]);
  });

  it('turns a request that got no answer into a 503 provider_credentials_missing naming the endpoint', async () => {
    const send = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:9');
    };
    await expect(sendForToken(send, { method: 'GET', url: 'http://token.test', headers: {} }, "Google's token endpoint (http://token.test)")).rejects.toMatchObject({
      status: 503,
      code: 'provider_credentials_missing',
      message: "Google's token endpoint (http://token.test) could not be reached (connect ECONNREFUSED 127.0.0.1:9).",
    });
  });
});

describe('readOAuthTokenReply', () => {
  it('reads the token and its expiry from expires_in, an hour when the reply does not say', () => {
    expect(readOAuthTokenReply(reply(200, { access_token: 'ya29.a', expires_in: 3599, token_type: 'Bearer' }), 1_000, 'STS')).toEqual({ token: 'ya29.a', expiresAt: 3_600_000 });
    expect(readOAuthTokenReply(reply(200, { access_token: 'ya29.b' }), 0, 'STS')).toEqual({ token: 'ya29.b', expiresAt: 3_600_000 });
  });

  it("tells a refusal as the source's 401, with the secrets the request carried cut out", () => {
    const echoed = reply(400, { error: 'invalid_grant', error_description: 'subject token subject-token-0123456789 is expired' });
    let failure: unknown;
    try {
      readOAuthTokenReply(echoed, 0, "Google's Security Token Service", ['subject-token-0123456789']);
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({
      status: 401,
      code: 'upstream_token_refused',
      message: "Google's Security Token Service answered HTTP 400 (invalid_grant: subject token [redacted] is expired).",
    });
  });

  it('tells an unreadable success as a 502', () => {
    for (const body of ['<html>', { token_type: 'Bearer' }, 'null']) {
      expect(() => readOAuthTokenReply(reply(200, body), 0, 'STS')).toThrow(expect.objectContaining({ status: 502, code: 'upstream_token_unavailable' }));
    }
  });
});

describe('googleTokenRefused', () => {
  const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it("repeats an OAuth endpoint's error and an API's status and message, with the request's secrets cut out", () => {
    expect(googleTokenRefused(400, body({ error: 'invalid_grant', error_description: 'Bad refresh-token-0123456789' }), "Google's token endpoint", ['refresh-token-0123456789']).message).toBe(
      "Google's token endpoint answered HTTP 400 (invalid_grant: Bad [redacted]).",
    );
    const api = googleTokenRefused(403, body({ error: { code: 403, message: 'Permission denied.', status: 'PERMISSION_DENIED' } }), 'IAM');
    expect(api).toMatchObject({ status: 401, code: 'upstream_token_refused', message: 'IAM answered HTTP 403 (PERMISSION_DENIED: Permission denied.).' });
    expect(googleTokenRefused(503, new TextEncoder().encode('<html>'), 'IAM')).toMatchObject({ status: 502, code: 'upstream_token_unavailable', message: 'IAM answered HTTP 503.', retryable: true });
  });
});
