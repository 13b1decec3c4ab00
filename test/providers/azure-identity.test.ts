/**
 * Azure keys that hold no secret: a client id (with its tenant) acting as the AKS workload identity of the pod Tollgate
 * runs in, whose projected token (read from a file, rotated by Kubernetes) is the client assertion Entra ID takes; a
 * client id alone acting as a user-assigned managed identity, from the instance metadata service or, on App Service
 * and Container Apps, from their identity endpoint; no client id at all acting as the host's default identity, found
 * from the variables the host sets (read as at start: loadConfig, then the adapters' options). The Azure mock plays
 * Entra ID and both endpoints (which give the system-assigned identity's token to a request naming no client id), and
 * refuses a model call without a token it issued.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/environment.js';
import { createAzureAdapter } from '../../src/providers/azure/index.js';
import { adapterOptionsOf } from '../../src/server/adapter-options.js';
import type { ProviderContext, UpstreamRequest, UpstreamResponse } from '../../src/spec/provider.js';
import { startAzureMock, type AzureMock } from '../mocks/azure-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const tenantId = 'contoso-tenant';
const workloadClient = 'tollgate-workload-app';
/** What Entra must receive from a workload identity: the projected token as the client assertion, for Azure OpenAI. */
const workloadTokenRequest = {
  grant_type: 'client_credentials',
  client_id: workloadClient,
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: 'projected-token-0001',
  scope: 'https://cognitiveservices.azure.com/.default',
};
const managedClient = 'tollgate-managed-identity';
const systemAssignedClient = 'host-system-assigned-identity';
const identityHeader = 'app-service-identity-header-0001';
const deployments = { 'gpt-4o': 'chat-prod', 'claude-sonnet-4-5': 'claude-sonnet-prod' };
const mockDeployments = { 'chat-prod': 'gpt-4o-2024-08-06', 'claude-sonnet-prod': 'claude-sonnet-4-5' };

const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-workload-'));
const tokenFile = path.join(directory, 'azure-identity-token');
let mock: AzureMock;
let tollgate: LiveGateway;
const ids: Record<string, string> = {};

const openai = (name: string) => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids[name]! } });
const lastModelCall = () => mock.requests.at(-1)!;

beforeAll(async () => {
  writeFileSync(tokenFile, 'projected-token-0001\n');
  mock = await startAzureMock({
    deployments: mockDeployments,
    claude: true,
    entra: {
      tenantId,
      clientId: workloadClient,
      clientSecret: 'unused-secret',
      federatedToken: 'projected-token-0001',
      managedClientId: managedClient,
      systemAssignedClientId: systemAssignedClient,
      identityHeader,
    },
  });
  tollgate = await startLiveGateway({
    adapterOptions: { azureAuthorityHost: mock.baseUrl, azureIdentity: { readFederatedToken: () => readFile(tokenFile, 'utf8'), imdsHost: mock.baseUrl } },
    environment: {},
  });
  await tollgate.configureProvider('azure', { network_config: { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
  const endpoint = mock.baseUrl;
  ids.workload = await tollgate.addKey('azure', { name: 'workload', azure_key_config: { endpoint, deployments, client_id: workloadClient, tenant_id: tenantId } });
  ids.managed = await tollgate.addKey('azure', { name: 'managed', azure_key_config: { endpoint, deployments, client_id: managedClient } });
  ids.stranger = await tollgate.addKey('azure', { name: 'stranger', azure_key_config: { endpoint, deployments, client_id: 'not-an-identity-here' } });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('an Azure key acting as the workload identity of the pod', () => {
  it("gets Entra's token with the projected token as its assertion, and calls the deployment with it", async () => {
    const before = mock.tokenRequests.length;
    const completion = await openai('workload').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'as the workload' }] });
    expect(completion.choices[0]!.message.content).toBe('Echo: as the workload');
    expect(mock.tokenRequests.slice(before)).toEqual([workloadTokenRequest]);
    expect(lastModelCall().headers.authorization).toMatch(/^Bearer mock-entra-token-\d+$/);
    expect(lastModelCall().headers['api-key']).toBeUndefined();
  });

  it("reads the token file again when it needs a new token, and asks Foundry's scope for a Claude deployment", async () => {
    writeFileSync(tokenFile, 'projected-token-0002\n');
    const before = mock.tokenRequests.length;
    // A token for another scope is a new token request: the rotated file's token is refused by this mock's Entra.
    const error = await new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids.workload! } })
      .messages.create({ model: 'azure/claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'rotated' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).message).toContain('AADSTS700211');
    expect((error as InstanceType<typeof Anthropic.APIError>).message).not.toContain('projected-token');
    expect(mock.tokenRequests.slice(before)).toEqual([expect.objectContaining({ client_assertion: 'projected-token-0002', scope: 'https://ai.azure.com/.default' })]);
    writeFileSync(tokenFile, 'projected-token-0001\n');
  });
});

describe('an Azure key acting as a user-assigned managed identity', () => {
  it('gets its token from the instance metadata service once, and calls the deployment with it', async () => {
    const before = mock.identityRequests.length;
    for (const prompt of ['first', 'second']) {
      const completion = await openai('managed').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: prompt }] });
      expect(completion.choices[0]!.message.content).toBe(`Echo: ${prompt}`);
      expect(lastModelCall().headers.authorization).toMatch(/^Bearer mock-managed-token-\d+$/);
    }
    const asked = mock.identityRequests.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.url).toBe(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://cognitiveservices.azure.com')}&client_id=${managedClient}`);
    expect(asked[0]!.headers.metadata).toBe('true');
  });

  it("passes the metadata service's refusal of an identity the host does not have on as a 401, in the error shape", async () => {
    const error = await openai('stranger')
      .chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'who am I' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const refusal = error as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(refusal.message).toContain('Identity not found');
    expect(refusal.code).toBe('upstream_token_error');
  });
});

describe("App Service's and Container Apps' identity endpoint", () => {
  let appService: AzureMock;
  beforeAll(async () => {
    appService = await startAzureMock({ deployments: mockDeployments, entra: { tenantId, clientId: workloadClient, clientSecret: 'unused', managedClientId: managedClient, identityHeader } });
  });
  afterAll(async () => {
    await appService?.close();
  });

  async function send(upstream: UpstreamRequest): Promise<UpstreamResponse> {
    const response = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers[name] = value;
    return { status: response.statusCode, headers, body: new Uint8Array(await response.body.arrayBuffer()) };
  }

  it('is asked, with its header, instead of the metadata service when the host names it', async () => {
    const adapter = createAzureAdapter({ azureIdentity: { identityEndpoint: { url: `${appService.baseUrl}/msi/token`, header: identityHeader } } });
    const context = {
      provider: { name: 'azure', adapterType: 'azure', network: { extraHeaders: {}, timeoutMs: 10_000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 } },
      key: { id: 'k', name: 'app-service', provider: 'azure', value: '', azure: { endpoint: appService.baseUrl, deployments, scopes: [], clientId: managedClient } },
      model: 'gpt-4o',
      requestId: 'r',
      send,
      now: () => Date.now(),
    } as ProviderContext;
    const upstream = await adapter.chat.buildRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'on App Service' }] }, context, { stream: false });
    expect(upstream.headers.authorization).toMatch(/^Bearer mock-managed-token-\d+$/);
    expect((await send(upstream)).status).toBe(200);
    expect(appService.identityRequests).toHaveLength(1);
    expect(appService.identityRequests[0]!.url).toMatch(/^\/msi\/token\?api-version=2019-08-01&resource=/);
    expect(appService.identityRequests[0]!.headers['x-identity-header']).toBe(identityHeader);
  });
});

describe("an Azure key naming no client id: the host's default identity, from the host's variables", () => {
  /**
   * A gateway whose Azure identity is read from `environment` as at start, with a key holding nothing but its endpoint
   * (`default`) and the other keys given (their Azure settings beside the endpoint).
   */
  async function gatewayFromEnvironment(environment: Record<string, string>, others: Record<string, Record<string, unknown>> = {}) {
    const gateway = await startLiveGateway({ adapterOptions: adapterOptionsOf(loadConfig(environment)), environment: {} });
    await gateway.configureProvider('azure', { network_config: { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
    const keyIds: Record<string, string> = {};
    for (const [name, extra] of Object.entries({ default: {}, ...others })) {
      keyIds[name] = await gateway.addKey('azure', { name, azure_key_config: { endpoint: mock.baseUrl, deployments, ...extra } });
    }
    const ask = (key: string, content: string) =>
      new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': keyIds[key]! } }).chat.completions.create({
        model: 'azure/gpt-4o',
        messages: [{ role: 'user', content }],
      });
    return { gateway, ask };
  }
  const resourceQuery = `resource=${encodeURIComponent('https://cognitiveservices.azure.com')}`;
  const lastBearer = () => lastModelCall().headers.authorization;

  it("acts as the pod's workload identity the AKS webhook's variables name; a key's own ids win", async () => {
    const { gateway, ask } = await gatewayFromEnvironment(
      {
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
        AZURE_CLIENT_ID: workloadClient,
        AZURE_TENANT_ID: tenantId,
        AZURE_AUTHORITY_HOST: mock.baseUrl,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: mock.baseUrl,
      },
      { 'own-tenant': { tenant_id: 'another-tenant' }, 'own-client': { client_id: managedClient } },
    );
    try {
      const before = mock.tokenRequests.length;
      expect((await ask('default', 'from the environment')).choices[0]!.message.content).toBe('Echo: from the environment');
      // The mock's Entra knows the tenant only by the environment's id, in the token URL's path.
      expect(mock.tokenRequests.slice(before)).toEqual([workloadTokenRequest]);
      expect(lastBearer()).toMatch(/^Bearer mock-entra-token-\d+$/);

      const refused = await ask('own-tenant', 'elsewhere').catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((refused as InstanceType<typeof OpenAI.AuthenticationError>).message).toContain("Tenant 'another-tenant' not found");

      // A key naming its client id (and no tenant) keeps to the managed identity it names, as before.
      const asked = mock.identityRequests.length;
      expect((await ask('own-client', 'named')).choices[0]!.message.content).toBe('Echo: named');
      expect(mock.identityRequests.slice(asked).map((request) => request.url)).toEqual([`/metadata/identity/oauth2/token?api-version=2018-02-01&${resourceQuery}&client_id=${managedClient}`]);
      expect(lastBearer()).toMatch(/^Bearer mock-managed-token-\d+$/);
    } finally {
      await gateway.dispose();
    }
  });

  it("acts as App Service's system-assigned identity, asking its endpoint with no client id", async () => {
    const { gateway, ask } = await gatewayFromEnvironment({ IDENTITY_ENDPOINT: `${mock.baseUrl}/msi/token`, IDENTITY_HEADER: identityHeader });
    try {
      const before = mock.identityRequests.length;
      expect((await ask('default', 'on App Service')).choices[0]!.message.content).toBe('Echo: on App Service');
      const asked = mock.identityRequests.slice(before);
      expect(asked.map((request) => request.url)).toEqual([`/msi/token?api-version=2019-08-01&${resourceQuery}`]);
      expect(asked[0]!.headers['x-identity-header']).toBe(identityHeader);
      expect(lastBearer()).toMatch(/^Bearer mock-system-token-\d+$/);
    } finally {
      await gateway.dispose();
    }
  });

  it("acts as a virtual machine's system-assigned identity from the metadata service, never sharing another identity's token", async () => {
    const { gateway, ask } = await gatewayFromEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: mock.baseUrl }, { named: { client_id: managedClient } });
    try {
      const before = mock.identityRequests.length;
      expect((await ask('default', 'on a VM')).choices[0]!.message.content).toBe('Echo: on a VM');
      const systemBearer = lastBearer();
      expect(systemBearer).toMatch(/^Bearer mock-system-token-\d+$/);
      await ask('named', 'as the named identity');
      expect(lastBearer()).toMatch(/^Bearer mock-managed-token-\d+$/);
      await ask('default', 'again');
      expect(lastBearer()).toBe(systemBearer);
      const asked = mock.identityRequests.slice(before);
      expect(asked.map((request) => request.url)).toEqual([
        `/metadata/identity/oauth2/token?api-version=2018-02-01&${resourceQuery}`,
        `/metadata/identity/oauth2/token?api-version=2018-02-01&${resourceQuery}&client_id=${managedClient}`,
      ]);
      expect(asked.every((request) => request.headers.metadata === 'true')).toBe(true);
    } finally {
      await gateway.dispose();
    }
  });

  it('acts as the user-assigned identity AZURE_CLIENT_ID names, from the metadata service', async () => {
    const { gateway, ask } = await gatewayFromEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: mock.baseUrl, AZURE_CLIENT_ID: managedClient });
    try {
      const before = mock.identityRequests.length;
      expect((await ask('default', 'user-assigned')).choices[0]!.message.content).toBe('Echo: user-assigned');
      expect(mock.identityRequests.slice(before).map((request) => request.url)).toEqual([
        `/metadata/identity/oauth2/token?api-version=2018-02-01&${resourceQuery}&client_id=${managedClient}`,
      ]);
      expect(lastBearer()).toMatch(/^Bearer mock-managed-token-\d+$/);
    } finally {
      await gateway.dispose();
    }
  });

  it('answers 503 naming what it looked for, on a host with no Azure identity at all', async () => {
    const closed = await startAzureMock();
    const unreachable = closed.baseUrl;
    await closed.close();
    // The key is accepted at creation: only its use tells whether the host has an identity.
    const { gateway, ask } = await gatewayFromEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: unreachable });
    try {
      const error = await ask('default', 'nobody').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      const refusal = error as InstanceType<typeof OpenAI.APIError>;
      expect(refusal.status).toBe(503);
      expect(refusal.code).toBe('provider_credentials_missing');
      expect(refusal.message).toContain("Azure's instance metadata service (system-assigned managed identity) could not be reached");
      for (const variable of ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) {
        expect(refusal.message).toContain(variable);
      }
    } finally {
      await gateway.dispose();
    }
  });
});
