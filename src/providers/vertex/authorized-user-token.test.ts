import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../spec/errors.js';
import type { UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import {
  authorizedUserIdentity,
  fetchAuthorizedUserToken,
  GOOGLE_TOKEN_ENDPOINT,
  missingAuthorizedUserFields,
  parseAuthorizedUser,
  refreshTokenRequest,
} from './authorized-user-token.js';

const file = { type: 'authorized_user', client_id: 'client-1.apps.googleusercontent.com', client_secret: 'client-secret-0123456789', refresh_token: '1//refresh-token-0123456789', quota_project_id: 'billing' };
const fail = (problem: string) => new GatewayError({ status: 500, type: 'server_error', code: 'invalid_provider_credentials', message: problem });
const reply = (status: number, body: unknown): UpstreamResponse => ({ status, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });

describe('parseAuthorizedUser', () => {
  it("reads the grant's fields, refreshing at Google's token endpoint unless the file names its own", () => {
    expect(parseAuthorizedUser(file, fail)).toEqual({ clientId: file.client_id, clientSecret: file.client_secret, refreshToken: file.refresh_token, tokenUri: GOOGLE_TOKEN_ENDPOINT });
    expect(parseAuthorizedUser({ ...file, token_uri: 'http://127.0.0.1:4000/token' }, fail).tokenUri).toBe('http://127.0.0.1:4000/token');
  });

  it('names every missing field, and no value', () => {
    expect(missingAuthorizedUserFields({ type: 'authorized_user', client_id: 'c', client_secret: '' })).toEqual(['client_secret', 'refresh_token']);
    expect(() => parseAuthorizedUser({ ...file, refresh_token: undefined, client_id: 7 }, fail)).toThrow('the authorized_user credentials lack client_id, refresh_token');
  });
});

describe('refreshTokenRequest', () => {
  it("is the refresh-token grant, the client's id and secret in the form", () => {
    const request = refreshTokenRequest(parseAuthorizedUser(file, fail));
    expect(request).toMatchObject({ method: 'POST', url: GOOGLE_TOKEN_ENDPOINT, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(Object.fromEntries(new URLSearchParams(request.body as string))).toEqual({
      grant_type: 'refresh_token',
      client_id: file.client_id,
      client_secret: file.client_secret,
      refresh_token: file.refresh_token,
    });
  });
});

describe('authorizedUserIdentity', () => {
  it('tells users apart by client and refresh token without holding the token', () => {
    const credential = parseAuthorizedUser(file, fail);
    const identity = authorizedUserIdentity(credential);
    expect(identity).not.toContain(file.refresh_token);
    expect(authorizedUserIdentity({ ...credential })).toBe(identity);
    expect(authorizedUserIdentity({ ...credential, refreshToken: '1//another-refresh-token' })).not.toBe(identity);
  });
});

describe('fetchAuthorizedUserToken', () => {
  const credential = parseAuthorizedUser(file, fail);

  it('trades the refresh token for an access token valid as long as the reply says', async () => {
    const sent: UpstreamRequest[] = [];
    const send = async (request: UpstreamRequest) => {
      sent.push(request);
      return reply(200, { access_token: 'ya29.user', expires_in: 3599, scope: 'https://www.googleapis.com/auth/cloud-platform', token_type: 'Bearer' });
    };
    expect(await fetchAuthorizedUserToken(credential, { send, now: () => 10_000 })).toEqual({ token: 'ya29.user', expiresAt: 10_000 + 3_599_000 });
    expect(sent).toHaveLength(1);
  });

  it('tells a revoked refresh token as a 401 that repeats neither the token nor the secret', async () => {
    const send = async () => reply(400, { error: 'invalid_grant', error_description: `Token ${file.refresh_token} has been expired or revoked.` });
    const failure = (await fetchAuthorizedUserToken(credential, { send, now: () => 0 }).catch((error: unknown) => error)) as GatewayError;
    expect(failure).toMatchObject({ status: 401, code: 'upstream_token_refused' });
    expect(failure.message).toBe("Google's token endpoint answered HTTP 400 (invalid_grant: Token [redacted] has been expired or revoked.).");
  });

  it('tells an unreachable token endpoint as a 503 provider_credentials_missing', async () => {
    const send = async () => {
      throw new Error('getaddrinfo ENOTFOUND oauth2.googleapis.com');
    };
    await expect(fetchAuthorizedUserToken(credential, { send, now: () => 0 })).rejects.toMatchObject({ status: 503, code: 'provider_credentials_missing' });
  });
});
