/**
 * Token requests for Azure identities that hold no secret of their own, for keys with neither a client secret nor an
 * api-key:
 * - AKS workload identity: the service account token Kubernetes projects into the pod (the file
 *   `AZURE_FEDERATED_TOKEN_FILE` names) is the client assertion of a client-credentials request to Entra ID;
 * - App Service and Container Apps: their managed identity endpoint (`IDENTITY_ENDPOINT`, with `IDENTITY_HEADER`);
 * - elsewhere (virtual machines, scale sets, AKS node identities): the instance metadata service (IMDS).
 * A client id picks the user-assigned identity to act as; a managed identity request without one gets the host's
 * system-assigned identity. A key naming no client id takes the ids the environment gives (`AZURE_CLIENT_ID`,
 * `AZURE_TENANT_ID`), as the Azure SDKs' DefaultAzureCredential does.
 */
import { errors } from '../../spec/errors.js';
import type { AzureIdentityOptions, UpstreamRequest } from '../../spec/provider.js';

/** The instance metadata service of every Azure virtual machine. */
export const DEFAULT_IMDS_HOST = 'http://169.254.169.254';

/**
 * One of the host's identities: the workload identity (an application and its tenant), or a managed identity from
 * App Service's endpoint or IMDS, user-assigned when a client id names it, else the system-assigned one.
 */
export type HostIdentity =
  | { source: 'workload-identity'; tenantId: string; clientId: string }
  | { source: 'identity-endpoint' | 'imds'; clientId?: string };

/** One identity's token request: what to send, who answers it (for messages), and what it must never show. */
export interface IdentityTokenRequest {
  request: UpstreamRequest;
  source: string;
  secrets: string[];
}

/**
 * The host identity a key without a secret acts as. A key naming a client id keeps to its own ids: the workload
 * identity when it names a tenant and the pod has a token file, else the managed identity its client id names. A key
 * naming none takes the environment's ids, its own tenant winning: the workload identity when the token file and both
 * ids are there, else the user-assigned managed identity `AZURE_CLIENT_ID` names, else the system-assigned one.
 */
export function hostIdentityOf(key: { clientId?: string; tenantId?: string }, identity: AzureIdentityOptions): HostIdentity {
  const clientId = key.clientId ?? identity.clientId;
  // The environment's tenant belongs to the environment's client: a key's own client id goes with its own tenant only.
  const tenantId = key.clientId !== undefined ? key.tenantId : (key.tenantId ?? identity.tenantId);
  if (identity.readFederatedToken !== undefined && clientId !== undefined && tenantId !== undefined) {
    return { source: 'workload-identity', tenantId, clientId };
  }
  const source = identity.identityEndpoint !== undefined ? 'identity-endpoint' : 'imds';
  return clientId === undefined ? { source } : { source, clientId };
}

/**
 * The resource a managed identity endpoint takes: the first scope without its `/.default` (those endpoints predate
 * scopes and take one resource).
 */
export function resourceOfScope(scope: string): string {
  const first = scope.split(' ').find((part) => part !== '') ?? '';
  return first.replace(/\/\.default$/, '');
}

/** The token request of a host identity for `scope` (space-separated scopes). */
export async function identityTokenRequest(host: HostIdentity, scope: string, identity: AzureIdentityOptions, authorityHost: string): Promise<IdentityTokenRequest> {
  if (host.source === 'workload-identity') {
    if (identity.readFederatedToken === undefined) throw errors.internal('A workload identity was chosen without a token file to read.');
    const assertion = (await identity.readFederatedToken().catch(unreadableTokenFile)).trim();
    return {
      source: 'Azure Entra ID (workload identity)',
      secrets: [assertion],
      request: {
        method: 'POST',
        url: `${authorityHost}/${encodeURIComponent(host.tenantId)}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: host.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          scope,
        }).toString(),
      },
    };
  }
  // Without a client id, both endpoints answer for the system-assigned identity: the messages say which was asked.
  const which = host.clientId === undefined ? 'system-assigned managed identity' : 'managed identity';
  const resource = resourceOfScope(scope);
  if (host.source === 'identity-endpoint' && identity.identityEndpoint !== undefined) {
    const url = new URL(identity.identityEndpoint.url);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', resource);
    if (host.clientId !== undefined) url.searchParams.set('client_id', host.clientId);
    return {
      source: `Azure's managed identity endpoint (${which})`,
      secrets: [identity.identityEndpoint.header],
      request: { method: 'GET', url: url.toString(), headers: { 'x-identity-header': identity.identityEndpoint.header, accept: 'application/json' } },
    };
  }
  const url = new URL('/metadata/identity/oauth2/token', identity.imdsHost ?? DEFAULT_IMDS_HOST);
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', resource);
  if (host.clientId !== undefined) url.searchParams.set('client_id', host.clientId);
  return {
    source: `Azure's instance metadata service (${which})`,
    secrets: [],
    request: { method: 'GET', url: url.toString(), headers: { metadata: 'true', accept: 'application/json' } },
  };
}

/** What a key without a secret looks for, for the message of a host that has none of it. */
export const HOST_IDENTITY_HINT =
  'An Azure key with neither a client secret nor an api-key acts as the identity of the Azure host Tollgate runs on: ' +
  'the AKS workload identity (AZURE_FEDERATED_TOKEN_FILE, with AZURE_CLIENT_ID and AZURE_TENANT_ID or the key\'s own ids), ' +
  "else App Service's or Container Apps' identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER), " +
  'else the instance metadata service (AZURE_POD_IDENTITY_AUTHORITY_HOST, default http://169.254.169.254).';

/** The workload identity's token file could not be read: the pod's set-up, not the upstream, is at fault. */
function unreadableTokenFile(error: unknown): never {
  const detail = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
  throw errors.unavailable(`The workload identity's token file (AZURE_FEDERATED_TOKEN_FILE) could not be read (${detail}).`, { code: 'upstream_token_error' });
}
