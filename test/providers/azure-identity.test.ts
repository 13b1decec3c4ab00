/**
 * Azure keys that hold no secret: a client id (with its tenant) acting as the AKS workload identity of the pod Tollgate
 * runs in, whose projected token (read from a file, rotated by Kubernetes) is the client assertion Entra ID takes; a
 * client id alone acting as a user-assigned managed identity, from the instance metadata service or, on App Service
 * and Container Apps, from their identity endpoint. The Azure mock plays Entra ID and both endpoints, and refuses a
 * model call without a token it issued.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureAdapter } from '../../src/providers/azure/index.js';
import type { ProviderContext, UpstreamRequest, UpstreamResponse } from '../../src/spec/provider.js';
import { startAzureMock, type AzureMock } from '../mocks/azure-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const tenantId = 'contoso-tenant';
const workloadClient = 'tollgate-workload-app';
const managedClient = 'tollgate-managed-identity';
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
    entra: { tenantId, clientId: workloadClient, clientSecret: 'unused-secret', federatedToken: 'projected-token-0001', managedClientId: managedClient },
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
    expect(mock.tokenRequests.slice(before)).toEqual([
      {
        grant_type: 'client_credentials',
        client_id: workloadClient,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: 'projected-token-0001',
        scope: 'https://cognitiveservices.azure.com/.default',
      },
    ]);
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
