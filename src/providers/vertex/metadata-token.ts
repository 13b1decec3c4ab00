/**
 * Access tokens of the Google identity of the host Tollgate runs on, from the metadata server that Compute Engine,
 * GKE (with workload identity, the pod's service account), Cloud Run and the other Google Cloud runtimes serve:
 * `GET http://<metadata host>/computeMetadata/v1/instance/service-accounts/default/token` with `Metadata-Flavor:
 * Google`. One token for the process, cached until shortly before it expires; concurrent callers share one request.
 */
import { errors } from '../../spec/errors.js';
import { DETACHED_SIGNAL } from '../../spec/until-aborted.js';
import type { TokenRequestContext } from './service-account-token.js';
import { createTokenCache, type IssuedToken } from './token-cache.js';
import { readOAuthTokenReply } from './token-endpoint.js';

/** The metadata server's name on every Google Cloud runtime. */
export const DEFAULT_METADATA_HOST = 'metadata.google.internal';

/** Hands out the host identity's access token. */
export interface MetadataTokenSource {
  getToken(context: TokenRequestContext): Promise<string>;
}

/** Creates the source for the metadata server at `metadataHost` (a host, or a host and port). */
export function createMetadataTokenSource(metadataHost: string = DEFAULT_METADATA_HOST): MetadataTokenSource {
  const url = `http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/token`;
  const tokens = createTokenCache();

  async function fetchToken(context: TokenRequestContext): Promise<IssuedToken> {
    const requestedAt = context.now();
    // Shared by every caller waiting for the token: the caller that started it may leave without cancelling it.
    const response = await context.send({ method: 'GET', url, headers: { 'metadata-flavor': 'Google', accept: 'application/json' } }, DETACHED_SIGNAL).catch((error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      throw errors.unavailable(
        `Google's metadata server (${metadataHost}) could not be reached (${detail}). A Vertex key with neither auth_credentials nor a value acts as the Google identity of the host Tollgate runs on: GOOGLE_APPLICATION_CREDENTIALS, or the metadata server on Google Cloud.`,
        { code: 'provider_credentials_missing' },
      );
    });
    return readOAuthTokenReply(response, requestedAt, "Google's metadata server");
  }

  return {
    getToken(context) {
      return tokens.getToken('metadata', () => fetchToken(context), context);
    },
  };
}
