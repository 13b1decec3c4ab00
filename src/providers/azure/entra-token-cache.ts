/**
 * Microsoft Entra ID access tokens for Azure OpenAI (OAuth 2.0 client credentials). Tokens are cached per
 * (tenant, client, scope) until shortly before they expire, and concurrent callers needing a fresh token share
 * one token request.
 */
import { errors, GatewayError } from '../../spec/errors.js';
import type { ProviderContext } from '../../spec/provider.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import { untilAborted } from '../../spec/until-aborted.js';

/** The public-cloud authority, used when no other authority host is configured. */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** The scope of Azure OpenAI (Cognitive Services) data-plane calls. */
export const DEFAULT_AZURE_SCOPE = 'https://cognitiveservices.azure.com/.default';

/** The scope Microsoft Foundry's documentation gives for Claude deployments (its Anthropic endpoint). */
export const FOUNDRY_SCOPE = 'https://ai.azure.com/.default';

/** How long before its expiry a cached token is replaced. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** The client credentials of one Entra application. */
export interface EntraClient {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes. */
  scope: string;
}

interface CachedToken {
  accessToken: string;
  /** When the token should be replaced (its expiry minus the refresh margin), in epoch milliseconds. */
  refreshAt: number;
}

/**
 * The Entra client of a key, when it has complete client credentials; its scope is the key's scopes, else
 * `defaultScope` (the one the service being called documents).
 */
export function entraClientOf(context: ProviderContext, defaultScope: string = DEFAULT_AZURE_SCOPE): EntraClient | undefined {
  const azure = context.key.azure;
  if (!azure?.tenantId || !azure.clientId || !azure.clientSecret) return undefined;
  const scopes = azure.scopes.filter((scope) => scope !== '');
  return {
    tenantId: azure.tenantId,
    clientId: azure.clientId,
    clientSecret: azure.clientSecret,
    scope: (scopes.length > 0 ? scopes : [defaultScope]).join(' '),
  };
}

/** A token cache; one per adapter instance, shared by all its requests. */
export class EntraTokenCache {
  private readonly authorityHost: string;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly refreshing = new Map<string, Promise<CachedToken>>();

  constructor(authorityHost: string = DEFAULT_AUTHORITY_HOST) {
    this.authorityHost = authorityHost.replace(/\/+$/, '');
  }

  /** A valid access token for the client, from the cache or from the token endpoint (through `context.send`). */
  async token(client: EntraClient, context: ProviderContext): Promise<string> {
    const cacheKey = `${client.tenantId}\n${client.clientId}\n${client.scope}`;
    const cached = this.tokens.get(cacheKey);
    if (cached !== undefined && context.now() < cached.refreshAt) return cached.accessToken;
    let pending = this.refreshing.get(cacheKey);
    if (pending === undefined) {
      // The shared request gets no caller's abort signal: one caller giving up must not fail the others.
      pending = this.fetchToken(client, context)
        .then((token) => {
          this.tokens.set(cacheKey, token);
          return token;
        })
        .finally(() => this.refreshing.delete(cacheKey));
      this.refreshing.set(cacheKey, pending);
    }
    const token = await untilAborted(pending, context.signal);
    return token.accessToken;
  }

  private async fetchToken(client: EntraClient, context: ProviderContext): Promise<CachedToken> {
    const requestedAt = context.now();
    const response = await context.send({
      method: 'POST',
      url: `${this.authorityHost}/${encodeURIComponent(client.tenantId)}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: client.scope,
      }).toString(),
    });
    const body = parseBody(response.body);
    if (response.status !== 200) throw tokenError(response.status, body, client);
    const accessToken = body.access_token;
    const lifetimeSeconds = Number(body.expires_in);
    if (typeof accessToken !== 'string' || accessToken === '' || !Number.isFinite(lifetimeSeconds) || lifetimeSeconds <= 0) {
      throw errors.badGateway('Azure Entra ID returned a token reply without a usable access token.', { code: 'upstream_token_error' });
    }
    const lifetime = lifetimeSeconds * 1000;
    // Measured from when the request was sent, so the cached expiry is never later than the real one. Very
    // short-lived tokens keep half their life, so that not every call fetches a new one.
    return { accessToken, refreshAt: requestedAt + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2) };
  }
}

function parseBody(body: Uint8Array): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (parsed !== null && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch {
    // An unreadable body is reported by status alone.
  }
  return {};
}

function tokenError(status: number, body: Record<string, unknown>, client: EntraClient): GatewayError {
  const code = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  const description = typeof body.error_description === 'string' ? (body.error_description.split(/\r?\n/)[0] ?? '') : '';
  const detail = redactSecrets(`${code}${description === '' ? '' : `: ${description}`}`, [client.clientSecret]);
  const message = `Azure Entra ID did not issue a token (${detail}).`;
  if (status === 429) return errors.rateLimited(message, { code: 'upstream_token_error', retryable: true, upstream: true });
  if (status >= 500) return errors.badGateway(message, { code: 'upstream_token_error', retryable: true, upstream: true });
  return errors.unauthorized(message, { code: 'upstream_token_error', upstream: true });
}

