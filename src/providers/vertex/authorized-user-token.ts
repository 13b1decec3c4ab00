/**
 * Access tokens of a Google user (an `authorized_user` credential, what `gcloud auth application-default login`
 * writes on a developer's machine): the OAuth client's id and secret and the user's refresh token, traded at the
 * token endpoint with the refresh-token grant (RFC 6749 §6) for a bearer token valid about an hour.
 */
import { createHash } from 'node:crypto';
import type { GatewayError } from '../../spec/errors.js';
import type { HttpSend, UpstreamRequest } from '../../spec/provider.js';
import { readOAuthTokenReply, sendForToken } from './token-endpoint.js';
import type { IssuedToken } from './token-cache.js';

/** Google's OAuth 2.0 token endpoint, where a file without its own `token_uri` is refreshed. */
export const GOOGLE_TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token';

/** The fields of an authorized_user file that the grant needs. */
export interface AuthorizedUserCredential {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  tokenUri: string;
}

/** The members an authorized_user file must hold, in the order its problems are named. */
export const AUTHORIZED_USER_FIELDS = ['client_id', 'client_secret', 'refresh_token'] as const;

/** The required members missing (or empty) from an authorized_user record. */
export function missingAuthorizedUserFields(record: Record<string, unknown>): string[] {
  return AUTHORIZED_USER_FIELDS.filter((field) => typeof record[field] !== 'string' || record[field] === '');
}

/** Reads an authorized_user record; `fail` builds the error naming a problem (never a value). */
export function parseAuthorizedUser(record: Record<string, unknown>, fail: (problem: string) => GatewayError): AuthorizedUserCredential {
  const missing = missingAuthorizedUserFields(record);
  if (missing.length > 0) throw fail(`the authorized_user credentials lack ${missing.join(', ')}`);
  const tokenUri = typeof record.token_uri === 'string' && record.token_uri !== '' ? record.token_uri : GOOGLE_TOKEN_ENDPOINT;
  return {
    clientId: record.client_id as string,
    clientSecret: record.client_secret as string,
    refreshToken: record.refresh_token as string,
    tokenUri,
  };
}

/** The cache identity of a user's credential: its client and refresh token, hashed so that no map holds the token. */
export function authorizedUserIdentity(credential: AuthorizedUserCredential): string {
  const digest = createHash('sha256').update(`${credential.tokenUri}\n${credential.clientId}\n${credential.refreshToken}`).digest('base64url');
  return `authorized_user:${digest}`;
}

/** The refresh-token grant's request: the client authenticates in the form body, as Google's installed apps do. */
export function refreshTokenRequest(credential: AuthorizedUserCredential): UpstreamRequest {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: credential.clientId,
    client_secret: credential.clientSecret,
    refresh_token: credential.refreshToken,
  });
  return {
    method: 'POST',
    url: credential.tokenUri,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  };
}

/** Fetches a user's access token (a revoked or expired refresh token is Google's 400 invalid_grant, told as a 401). */
export async function fetchAuthorizedUserToken(credential: AuthorizedUserCredential, context: { send: HttpSend; now: () => number }): Promise<IssuedToken> {
  const requestedAt = context.now();
  const response = await sendForToken(context.send, refreshTokenRequest(credential), `Google's token endpoint (${credential.tokenUri})`);
  return readOAuthTokenReply(response, requestedAt, "Google's token endpoint", [credential.refreshToken, credential.clientSecret]);
}
