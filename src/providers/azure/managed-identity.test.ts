/** The token requests of identities without a secret: which identity a key acts as, and its request on the wire. */
import { describe, expect, it } from 'vitest';
import { hostIdentityOf, identityTokenRequest, resourceOfScope } from './managed-identity.js';

const AUTHORITY = 'https://login.example';
const SCOPE = 'https://cognitiveservices.azure.com/.default';
const readFederatedToken = async () => 'eyJ.federated.token\n';
const identityEndpoint = { url: 'http://127.0.0.1:41234/msi/token', header: 'identity-header-secret' };

describe('hostIdentityOf', () => {
  it("keeps a key naming a client id to its own ids, whatever the environment's", () => {
    const environment = { readFederatedToken, clientId: 'env-client', tenantId: 'env-tenant' };
    expect(hostIdentityOf({ clientId: 'app-1', tenantId: 'tenant-1' }, environment)).toEqual({ source: 'workload-identity', clientId: 'app-1', tenantId: 'tenant-1' });
    // Its client id without a tenant is a managed identity, as before the environment's ids were read.
    expect(hostIdentityOf({ clientId: 'managed-1' }, environment)).toEqual({ source: 'imds', clientId: 'managed-1' });
    expect(hostIdentityOf({ clientId: 'managed-1', tenantId: 'tenant-1' }, { identityEndpoint, tenantId: 'env-tenant' })).toEqual({ source: 'identity-endpoint', clientId: 'managed-1' });
  });

  it("gives a key naming no client id the environment's workload identity, its own tenant winning", () => {
    const environment = { readFederatedToken, identityEndpoint, clientId: 'env-client', tenantId: 'env-tenant' };
    expect(hostIdentityOf({}, environment)).toEqual({ source: 'workload-identity', clientId: 'env-client', tenantId: 'env-tenant' });
    expect(hostIdentityOf({ tenantId: 'key-tenant' }, environment)).toEqual({ source: 'workload-identity', clientId: 'env-client', tenantId: 'key-tenant' });
  });

  it('falls back to a managed identity when the workload identity lacks its token file, tenant or client id', () => {
    expect(hostIdentityOf({}, { readFederatedToken, clientId: 'env-client' })).toEqual({ source: 'imds', clientId: 'env-client' });
    expect(hostIdentityOf({}, { readFederatedToken, tenantId: 'env-tenant', identityEndpoint })).toEqual({ source: 'identity-endpoint' });
    expect(hostIdentityOf({}, { clientId: 'env-client', tenantId: 'env-tenant', identityEndpoint })).toEqual({ source: 'identity-endpoint', clientId: 'env-client' });
  });

  it('names no client id for the system-assigned identity, on App Service and elsewhere', () => {
    expect(hostIdentityOf({}, { identityEndpoint })).toEqual({ source: 'identity-endpoint' });
    expect(hostIdentityOf({}, {})).toEqual({ source: 'imds' });
    expect(hostIdentityOf({ tenantId: 'key-tenant' }, { imdsHost: 'http://10.0.0.9' })).toEqual({ source: 'imds' });
  });
});

describe('identityTokenRequest', () => {
  it("sends the workload identity's federated token as the client assertion, to the tenant's token endpoint", async () => {
    const built = await identityTokenRequest({ source: 'workload-identity', clientId: 'app-1', tenantId: 'tenant-1' }, SCOPE, { readFederatedToken }, AUTHORITY);
    expect(built.request).toMatchObject({ method: 'POST', url: 'https://login.example/tenant-1/oauth2/v2.0/token' });
    expect(Object.fromEntries(new URLSearchParams(built.request.body as string))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'eyJ.federated.token',
      scope: SCOPE,
    });
    expect(built.secrets).toEqual(['eyJ.federated.token']);
  });

  it("asks App Service's endpoint, with its header, for the user-assigned identity and the scope's resource", async () => {
    const built = await identityTokenRequest({ source: 'identity-endpoint', clientId: 'managed-1' }, SCOPE, { identityEndpoint }, AUTHORITY);
    const url = new URL(built.request.url);
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:41234/msi/token');
    expect(Object.fromEntries(url.searchParams)).toEqual({ 'api-version': '2019-08-01', resource: 'https://cognitiveservices.azure.com', client_id: 'managed-1' });
    expect(built.request).toMatchObject({ method: 'GET', headers: { 'x-identity-header': 'identity-header-secret' } });
    expect(built.secrets).toEqual(['identity-header-secret']);
    expect(built.source).toBe("Azure's managed identity endpoint (managed identity)");
  });

  it("asks App Service's endpoint for the system-assigned identity with no client id at all", async () => {
    const built = await identityTokenRequest({ source: 'identity-endpoint' }, SCOPE, { identityEndpoint }, AUTHORITY);
    expect(Object.fromEntries(new URL(built.request.url).searchParams)).toEqual({ 'api-version': '2019-08-01', resource: 'https://cognitiveservices.azure.com' });
    expect(built.source).toBe("Azure's managed identity endpoint (system-assigned managed identity)");
  });

  it('asks the instance metadata service elsewhere, with its Metadata header, naming the client id only when there is one', async () => {
    const userAssigned = await identityTokenRequest({ source: 'imds', clientId: 'managed-1' }, 'https://ai.azure.com/.default', {}, AUTHORITY);
    expect(userAssigned.request.url).toBe('http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fai.azure.com&client_id=managed-1');
    expect(userAssigned.request).toMatchObject({ method: 'GET', headers: { metadata: 'true' } });
    const systemAssigned = await identityTokenRequest({ source: 'imds' }, SCOPE, {}, AUTHORITY);
    expect(systemAssigned.request.url).toBe('http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcognitiveservices.azure.com');
    expect(systemAssigned.source).toBe("Azure's instance metadata service (system-assigned managed identity)");
    const moved = await identityTokenRequest({ source: 'imds', clientId: 'managed-1' }, SCOPE, { imdsHost: 'http://10.0.0.9:8080' }, AUTHORITY);
    expect(new URL(moved.request.url).origin).toBe('http://10.0.0.9:8080');
  });

  it('reports a token file it cannot read as a set-up problem, naming the variable', async () => {
    const missing = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const failure = await identityTokenRequest({ source: 'workload-identity', clientId: 'app-1', tenantId: 'tenant-1' }, SCOPE, { readFederatedToken: () => Promise.reject(missing) }, AUTHORITY).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ status: 503, code: 'upstream_token_error' });
    expect((failure as Error).message).toContain('AZURE_FEDERATED_TOKEN_FILE');
    expect((failure as Error).message).toContain('ENOENT');
  });
});

describe('resourceOfScope', () => {
  it("takes the first scope's resource", () => {
    expect(resourceOfScope(SCOPE)).toBe('https://cognitiveservices.azure.com');
    expect(resourceOfScope(' api://custom/.default other')).toBe('api://custom');
    expect(resourceOfScope('https://ai.azure.com')).toBe('https://ai.azure.com');
  });
});
