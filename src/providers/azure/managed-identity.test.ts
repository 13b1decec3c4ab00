/** The token requests of identities without a secret: which one a key's client id gets, and its shape on the wire. */
import { describe, expect, it } from 'vitest';
import { identityTokenRequest, resourceOfScope } from './managed-identity.js';

const AUTHORITY = 'https://login.example';
const SCOPE = 'https://cognitiveservices.azure.com/.default';

describe('identityTokenRequest', () => {
  it("sends the workload identity's federated token as the client assertion, to the tenant's token endpoint", async () => {
    const built = await identityTokenRequest({ clientId: 'app-1', tenantId: 'tenant-1', scope: SCOPE }, { readFederatedToken: async () => 'eyJ.federated.token\n' }, AUTHORITY);
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
    const identityEndpoint = { url: 'http://127.0.0.1:41234/msi/token', header: 'identity-header-secret' };
    // A tenant without a federated token (no workload identity here) falls through to the managed identity.
    const built = await identityTokenRequest({ clientId: 'managed-1', tenantId: 'tenant-1', scope: SCOPE }, { identityEndpoint }, AUTHORITY);
    const url = new URL(built.request.url);
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:41234/msi/token');
    expect(Object.fromEntries(url.searchParams)).toEqual({ 'api-version': '2019-08-01', resource: 'https://cognitiveservices.azure.com', client_id: 'managed-1' });
    expect(built.request).toMatchObject({ method: 'GET', headers: { 'x-identity-header': 'identity-header-secret' } });
    expect(built.secrets).toEqual(['identity-header-secret']);
  });

  it('asks the instance metadata service elsewhere, with its Metadata header', async () => {
    const standard = await identityTokenRequest({ clientId: 'managed-1', scope: 'https://ai.azure.com/.default' }, {}, AUTHORITY);
    expect(standard.request.url).toBe('http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fai.azure.com&client_id=managed-1');
    expect(standard.request).toMatchObject({ method: 'GET', headers: { metadata: 'true' } });
    const moved = await identityTokenRequest({ clientId: 'managed-1', scope: SCOPE }, { imdsHost: 'http://10.0.0.9:8080' }, AUTHORITY);
    expect(new URL(moved.request.url).origin).toBe('http://10.0.0.9:8080');
  });

  it('reports a token file it cannot read as a set-up problem, naming the variable', async () => {
    const missing = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const failure = await identityTokenRequest({ clientId: 'app-1', tenantId: 'tenant-1', scope: SCOPE }, { readFederatedToken: () => Promise.reject(missing) }, AUTHORITY).catch(
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
