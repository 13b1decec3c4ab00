/**
 * Microsoft Entra ID access tokens for Azure OpenAI: OAuth 2.0 client credentials with the application's secret, or,
 * for a key with neither a secret nor an api-key, the identity of the Azure host Tollgate runs on (see
 * `managed-identity.ts`). Tokens are cached per identity used (the application, or the host identity the key
 * resolves to: its source, tenant and client id) and scope until shortly before they expire, and concurrent callers
 * needing a fresh token share one token request.
 */
import { errors, GatewayError } from '../../spec/errors.js';
import type { AzureIdentityOptions, ProviderContext } from '../../spec/provider.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import { DETACHED_SIGNAL, untilAborted } from '../../spec/until-aborted.js';
import { HOST_IDENTITY_HINT, hostIdentityOf, identityTokenRequest, type HostIdentity } from './managed-identity.js';

/** The public-cloud authority, used when no other authority host is configured. */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** The scope of Azure OpenAI (Cognitive Services) data-plane calls. */
export const DEFAULT_AZURE_SCOPE = 'https://cognitiveservices.azure.com/.default';

/** The scope Microsoft Foundry's documentation gives for Claude deployments (its Anthropic endpoint). */
export const FOUNDRY_SCOPE = 'https://ai.azure.com/.default';

/** How long before its expiry a cached token is replaced. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * The Entra identity a key acts as: an application with its secret (client credentials), or, without a secret, the
 * host's workload or managed identity: the one `clientId` names, else the one the host's environment gives.
 */
export interface EntraClient {
  tenantId?: string;
  /** Always there with a secret; without one, absent for the host's default identity. */
  clientId?: string;
  clientSecret?: string;
  /** Space-separated scopes. */
  scope: string;
}

interface CachedToken {
  accessToken: string;
  /** When the token should be replaced (its expiry minus the refresh margin), in epoch milliseconds. */
  refreshAt: number;
}

/**
 * The Entra identity of a key: complete client credentials (tenant, client and secret), which win over an api-key, or,
 * on a key with neither a secret nor an api-key, the host's identity (the one its client id names, else the host's
 * default one); undefined when the key's api-key serves. Its scope is the key's scopes, else `defaultScope` (the one
 * the service called documents).
 */
export function entraClientOf(context: ProviderContext, defaultScope: string = DEFAULT_AZURE_SCOPE): EntraClient | undefined {
  const azure = context.key.azure;
  if (azure === undefined) return undefined;
  const withSecret = azure.clientId !== undefined && azure.tenantId !== undefined && azure.clientSecret !== undefined;
  if (!withSecret && (azure.clientSecret !== undefined || context.key.value !== '')) return undefined;
  const scopes = azure.scopes.filter((scope) => scope !== '');
  return {
    ...(azure.clientId !== undefined ? { clientId: azure.clientId } : {}),
    ...(azure.tenantId !== undefined ? { tenantId: azure.tenantId } : {}),
    ...(withSecret ? { clientSecret: azure.clientSecret } : {}),
    scope: (scopes.length > 0 ? scopes : [defaultScope]).join(' '),
  };
}

/** A token cache; one per adapter instance, shared by all its requests. */
export class EntraTokenCache {
  private readonly authorityHost: string;
  private readonly identity: AzureIdentityOptions;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly refreshing = new Map<string, Promise<CachedToken>>();

  /** `identity` says where this process finds its own Azure identity, for keys without a secret. */
  constructor(authorityHost: string = DEFAULT_AUTHORITY_HOST, identity: AzureIdentityOptions = {}) {
    this.authorityHost = authorityHost.replace(/\/+$/, '');
    this.identity = identity;
  }

  /** A valid access token for the client, from the cache or from the token endpoint (through `context.send`). */
  async token(client: EntraClient, context: ProviderContext): Promise<string> {
    const identity = applicationOf(client) ?? hostIdentityOf(client, this.identity);
    const cacheKey = cacheKeyOf(identity, client.scope);
    const cached = this.tokens.get(cacheKey);
    if (cached !== undefined && context.now() < cached.refreshAt) return cached.accessToken;
    let pending = this.refreshing.get(cacheKey);
    if (pending === undefined) {
      // The shared request gets no caller's abort signal: one caller giving up must not fail the others.
      pending = this.fetchToken(identity, client.scope, context)
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

  private async fetchToken(identity: Application | HostIdentity, scope: string, context: ProviderContext): Promise<CachedToken> {
    const requestedAt = context.now();
    const { request, source, secrets } =
      'clientSecret' in identity
        ? {
            source: 'Azure Entra ID',
            secrets: [identity.clientSecret],
            request: {
              method: 'POST' as const,
              url: `${this.authorityHost}/${encodeURIComponent(identity.tenantId)}/oauth2/v2.0/token`,
              headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
              body: new URLSearchParams({ grant_type: 'client_credentials', client_id: identity.clientId, client_secret: identity.clientSecret, scope }).toString(),
            },
          }
        : await identityTokenRequest(identity, scope, this.identity, this.authorityHost);
    const response = await context.send(request, DETACHED_SIGNAL).catch((error: unknown) => {
      throw unreachable(source, error, secrets);
    });
    const body = parseBody(response.body);
    if (response.status !== 200) throw tokenError(source, response.status, body, secrets);
    const accessToken = body.access_token;
    // Entra ID gives the lifetime (a number, or a string from older endpoints); managed identity endpoints may give only
    // the expiry, in seconds since the epoch.
    const lifetimeSeconds = body.expires_in !== undefined ? Number(body.expires_in) : Number(body.expires_on) - requestedAt / 1000;
    if (typeof accessToken !== 'string' || accessToken === '' || !Number.isFinite(lifetimeSeconds) || lifetimeSeconds <= 0) {
      throw errors.badGateway(`${source} returned a token reply without a usable access token.`, { code: 'upstream_token_error' });
    }
    const lifetime = lifetimeSeconds * 1000;
    // Measured from when the request was sent, so the cached expiry is never later than the real one. Very
    // short-lived tokens keep half their life, so that not every call fetches a new one.
    return { accessToken, refreshAt: requestedAt + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2) };
  }
}

/** An Entra application with its secret: complete client credentials. */
interface Application {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** The client's application credentials when complete; undefined for the host's identity. */
function applicationOf(client: EntraClient): Application | undefined {
  const { tenantId, clientId, clientSecret } = client;
  return tenantId !== undefined && clientId !== undefined && clientSecret !== undefined ? { tenantId, clientId, clientSecret } : undefined;
}

/**
 * The cache key of a token: the identity it is for, as resolved, and its scope. A secret's token and a host identity's
 * are different tokens even for one client id; a key naming no client id shares only the tokens of the identity it
 * resolves to (the system-assigned identity's are nobody else's).
 */
function cacheKeyOf(identity: Application | HostIdentity, scope: string): string {
  const parts = 'clientSecret' in identity ? ['secret', identity.tenantId, identity.clientId] : [identity.source, 'tenantId' in identity ? identity.tenantId : '', identity.clientId ?? ''];
  return [...parts, scope].join('\n');
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

function tokenError(source: string, status: number, body: Record<string, unknown>, secrets: readonly string[]): GatewayError {
  const code = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  // Entra ID and the metadata service describe the error in `error_description`; App Service's endpoint in `message`.
  const text = typeof body.error_description === 'string' ? body.error_description : typeof body.message === 'string' ? body.message : '';
  const description = text.split(/\r?\n/)[0] ?? '';
  const detail = redactSecrets(`${code}${description === '' ? '' : `: ${description}`}`, secrets);
  const message = `${source} did not issue a token (${detail}).`;
  if (status === 429) return errors.rateLimited(message, { code: 'upstream_token_error', retryable: true, upstream: true });
  if (status >= 500) return errors.badGateway(message, { code: 'upstream_token_error', retryable: true, upstream: true });
  return errors.unauthorized(message, { code: 'upstream_token_error', upstream: true });
}


/**
 * A token endpoint that could not be reached. A key without a secret relies on the host's identity, which only an
 * Azure host (or a pod with workload identity) provides: for those, the message says so. A cancelled request, and
 * Entra ID's own endpoint, keep the transport's error.
 */
function unreachable(source: string, error: unknown, secrets: readonly string[]): unknown {
  if (source === 'Azure Entra ID' || (error instanceof GatewayError && error.code === 'client_closed_request')) return error;
  const detail = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
  // The same answer as a Bedrock key's on a host without AWS credentials: the deployment, not the upstream, is at fault.
  return errors.unavailable(`${source} could not be reached (${detail}). ${HOST_IDENTITY_HINT}`, { code: 'provider_credentials_missing' });
}
