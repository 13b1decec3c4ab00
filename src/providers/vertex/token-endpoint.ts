/**
 * What the Google token fetches share: sending on behalf of every caller waiting for the token, reading the OAuth 2.0
 * token reply that Google's token endpoint and its Security Token Service both answer with, and telling a refusal.
 */
import { errors, GatewayError } from '../../spec/errors.js';
import type { HttpSend, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import { DETACHED_SIGNAL } from '../../spec/until-aborted.js';
import type { IssuedToken } from './token-cache.js';

/** Google's default lifetime of an access token, for a reply that does not say. */
const DEFAULT_LIFETIME_SECONDS = 3600;

/**
 * A token request Google answered with an error (`source` names who answered), as the client is told it. OAuth
 * endpoints answer `{error, error_description}`, Google's APIs (IAM Credentials) `{error: {status, message}}`;
 * `secrets` (what the request carried) are cut from the description should an endpoint echo one.
 */
export function googleTokenRefused(status: number, body: Uint8Array, source = "Google's token endpoint", secrets: readonly string[] = []): GatewayError {
  let description = '';
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { error?: unknown; error_description?: unknown };
    const error = parsed.error;
    const parts =
      error !== null && typeof error === 'object' ? [(error as { status?: unknown }).status, (error as { message?: unknown }).message] : [error, parsed.error_description];
    description = redactSecrets(parts.filter((part) => typeof part === 'string').join(': '), secrets);
  } catch {
    // A non-JSON answer (an HTML error page) says nothing worth repeating.
  }
  const transient = status >= 500 || status === 429;
  return new GatewayError({
    status: transient ? 502 : 401,
    type: transient ? 'upstream_error' : 'authentication_error',
    code: transient ? 'upstream_token_unavailable' : 'upstream_token_refused',
    message: `${source} answered HTTP ${status}${description ? ` (${description.slice(0, 200)})` : ''}.`,
    retryable: transient,
    upstream: true,
  });
}

/**
 * Sends one request of a shared token fetch. It goes out with DETACHED_SIGNAL, as every caller waiting for the token
 * shares it; a request that gets no answer (refused connection, timeout) is a 503 naming `endpoint`.
 */
export async function sendForToken(send: HttpSend, request: UpstreamRequest, endpoint: string): Promise<UpstreamResponse> {
  try {
    return await send(request, DETACHED_SIGNAL);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw errors.unavailable(`${endpoint} could not be reached (${detail}).`, { code: 'provider_credentials_missing' });
  }
}

/**
 * Reads an OAuth 2.0 token reply (`access_token`, `expires_in`: RFC 6749 §5.1, and RFC 8693 §2.2.1 for STS) into the
 * token and its expiry. An error answer is Google's refusal (`source` named, `secrets` cut from what it says).
 */
export function readOAuthTokenReply(response: UpstreamResponse, requestedAt: number, source: string, secrets: readonly string[] = []): IssuedToken {
  if (response.status !== 200) throw googleTokenRefused(response.status, response.body, source, secrets);
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder().decode(response.body)) as typeof parsed;
  } catch {
    throw googleTokenRefused(502, new Uint8Array(), source);
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
    throw googleTokenRefused(502, new Uint8Array(), source);
  }
  const lifetimeSeconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_LIFETIME_SECONDS;
  return { token: parsed.access_token, expiresAt: requestedAt + lifetimeSeconds * 1000 };
}
