/**
 * Token requests for Azure identities that hold no secret of their own, for keys that name a client id and neither
 * a client secret nor an api-key:
 * - AKS workload identity: the service account token Kubernetes projects into the pod (the file
 *   `AZURE_FEDERATED_TOKEN_FILE` names) is the client assertion of a client-credentials request to Entra ID;
 * - App Service and Container Apps: their managed identity endpoint (`IDENTITY_ENDPOINT`, with `IDENTITY_HEADER`);
 * - elsewhere (virtual machines, scale sets, AKS node identities): the instance metadata service (IMDS).
 * The client id picks the user-assigned identity to act as.
 */
import { errors } from '../../spec/errors.js';
import type { AzureIdentityOptions, UpstreamRequest } from '../../spec/provider.js';

/** The instance metadata service of every Azure virtual machine. */
export const DEFAULT_IMDS_HOST = 'http://169.254.169.254';

/** One identity's token request: what to send, who answers it (for messages), and what it must never show. */
export interface IdentityTokenRequest {
  request: UpstreamRequest;
  source: string;
  secrets: string[];
}

/**
 * The resource a managed identity endpoint takes: the first scope without its `/.default` (those endpoints predate
 * scopes and take one resource).
 */
export function resourceOfScope(scope: string): string {
  const first = scope.split(' ').find((part) => part !== '') ?? '';
  return first.replace(/\/\.default$/, '');
}

/** The token request for an identity without a secret: the workload identity when the process has one, else a managed identity. */
export async function identityTokenRequest(
  client: { clientId: string; tenantId?: string; scope: string },
  identity: AzureIdentityOptions,
  authorityHost: string,
): Promise<IdentityTokenRequest> {
  if (client.tenantId !== undefined && identity.readFederatedToken !== undefined) {
    const assertion = (await identity.readFederatedToken().catch(unreadableTokenFile)).trim();
    return {
      source: 'Azure Entra ID (workload identity)',
      secrets: [assertion],
      request: {
        method: 'POST',
        url: `${authorityHost}/${encodeURIComponent(client.tenantId)}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          scope: client.scope,
        }).toString(),
      },
    };
  }
  const resource = resourceOfScope(client.scope);
  if (identity.identityEndpoint !== undefined) {
    const url = new URL(identity.identityEndpoint.url);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', resource);
    url.searchParams.set('client_id', client.clientId);
    return {
      source: "Azure's managed identity endpoint",
      secrets: [identity.identityEndpoint.header],
      request: { method: 'GET', url: url.toString(), headers: { 'x-identity-header': identity.identityEndpoint.header, accept: 'application/json' } },
    };
  }
  const url = new URL('/metadata/identity/oauth2/token', identity.imdsHost ?? DEFAULT_IMDS_HOST);
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', resource);
  url.searchParams.set('client_id', client.clientId);
  return {
    source: "Azure's instance metadata service (managed identity)",
    secrets: [],
    request: { method: 'GET', url: url.toString(), headers: { metadata: 'true', accept: 'application/json' } },
  };
}

/** The workload identity's token file could not be read: the pod's set-up, not the upstream, is at fault. */
function unreadableTokenFile(error: unknown): never {
  const detail = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
  throw errors.unavailable(`The workload identity's token file (AZURE_FEDERATED_TOKEN_FILE) could not be read (${detail}).`, { code: 'upstream_token_error' });
}
