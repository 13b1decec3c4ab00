/**
 * Access tokens of the Google identity of the host Tollgate runs on, from the metadata server that Compute Engine,
 * GKE (with workload identity, the pod's service account), Cloud Run and the other Google Cloud runtimes serve:
 * `GET http://<metadata host>/computeMetadata/v1/instance/service-accounts/default/token` with `Metadata-Flavor:
 * Google`. One token for the process, cached until shortly before it expires; concurrent callers share one request.
 */
import { errors } from '../../spec/errors.js';
import { DETACHED_SIGNAL, untilAborted } from '../../spec/until-aborted.js';
import type { TokenRequestContext } from './service-account-token.js';
import { googleTokenRefused } from './token-endpoint.js';

/** The metadata server's name on every Google Cloud runtime. */
export const DEFAULT_METADATA_HOST = 'metadata.google.internal';

/** Tokens are replaced this long before they expire, so that none expires in flight. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** Hands out the host identity's access token. */
export interface MetadataTokenSource {
  getToken(context: TokenRequestContext): Promise<string>;
}

/** Creates the source for the metadata server at `metadataHost` (a host, or a host and port). */
export function createMetadataTokenSource(metadataHost: string = DEFAULT_METADATA_HOST): MetadataTokenSource {
  const url = `http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/token`;
  let cached: { token: string; refreshAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function refresh(context: TokenRequestContext): Promise<string> {
    const requestedAt = context.now();
    // Shared by every caller waiting for the token: the caller that started it may leave without cancelling it.
    const response = await context.send({ method: 'GET', url, headers: { 'metadata-flavor': 'Google', accept: 'application/json' } }, DETACHED_SIGNAL).catch((error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      throw errors.unavailable(
        `Google's metadata server (${metadataHost}) could not be reached (${detail}). A Vertex key with neither auth_credentials nor a value acts as the Google identity of the host Tollgate runs on: GOOGLE_APPLICATION_CREDENTIALS, or the metadata server on Google Cloud.`,
        { code: 'provider_credentials_missing' },
      );
    });
    if (response.status !== 200) throw googleTokenRefused(response.status, response.body, "Google's metadata server");
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(new TextDecoder().decode(response.body)) as typeof parsed;
    } catch {
      throw googleTokenRefused(502, new Uint8Array(), "Google's metadata server");
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') throw googleTokenRefused(502, new Uint8Array(), "Google's metadata server");
    const lifetimeMs = (typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600) * 1000;
    cached = { token: parsed.access_token, refreshAt: requestedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) };
    return parsed.access_token;
  }

  return {
    getToken(context) {
      if (cached !== undefined && context.now() < cached.refreshAt) return Promise.resolve(cached.token);
      if (inFlight === undefined) {
        inFlight = refresh(context).finally(() => {
          inFlight = undefined;
        });
        // Callers that stopped waiting leave the shared promise unobserved; its failure is theirs, not the process's.
        inFlight.catch(() => undefined);
      }
      return untilAborted(inFlight, context.signal);
    },
  };
}
