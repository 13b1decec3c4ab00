/**
 * Azure OpenAI end to end: both official SDKs through Tollgate to the Azure mock, which checks the deployment
 * path, `api-version`, and auth (`api-key`, or an Entra ID bearer its own token endpoint issued). Keys are made
 * through the management API as an operator would: endpoint, deployments, api_version, Entra client credentials,
 * key2. Covers key2 taking over on 401, Entra tokens fetched once and reused until expiry (the gateway's clock is
 * moved, never waited on), deployments mapping models, and the seed-000 route changing what goes on the wire.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURE_DEFAULT_SCOPE, azureMockEmbedding, startAzureMock, type AzureMock, type RecordedAzureRequest } from '../mocks/azure-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { azureMatrixCase } from './azure-support.js';
import { describeSdkMatrix } from './sdk-matrix.js';

const primaryKey = 'azure-primary-key-0001';
const secondaryKey = 'azure-secondary-key-0002';
const revokedKey = 'azure-revoked-key-0000';
const entra = { tenantId: 'contoso-tenant', clientId: 'tollgate-app-0001', clientSecret: 'entra-client-secret-0001' };
/** Deployment names are the operator's; the mock knows only these. */
const mockDeployments = { 'chat-prod': 'gpt-4o-2024-08-06', 'embed-prod': 'text-embedding-3-small' };
const deployments = { 'gpt-4o': 'chat-prod', 'text-embedding-3-small': 'embed-prod' };
const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };

let mock: AzureMock;
let tollgate: LiveGateway;
const ids: Record<string, string> = {};

const chatRequests = (): RecordedAzureRequest[] => mock.requests.filter((request) => request.url.includes('/chat/completions'));
const embeddingRequests = (): RecordedAzureRequest[] => mock.requests.filter((request) => request.url.includes('/embeddings'));
const pinned = (name: string) => ({ 'x-tollgate-key-id': ids[name]! });
const openai = (name: string) =>
  new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: pinned(name) });

/** Seed 000's `PUT /v1/models`, authenticated with x-maxim-api-key as that API documents. */
async function seedUpdate(gateway: LiveGateway, body: Record<string, unknown>): Promise<{ status: number; body: any; text: string }> {
  return gateway.request({ method: 'PUT', url: '/v1/models', body, admin: false, headers: { 'x-maxim-api-key': testAdminKey } });
}

beforeAll(async () => {
  mock = await startAzureMock({ apiKeys: [primaryKey, secondaryKey], deployments: mockDeployments, entra });
  tollgate = await startLiveGateway({ adapterOptions: { azureAuthorityHost: mock.baseUrl }, environment: {} });
  // No base_url: each key names its resource endpoint, as operators configure Azure.
  await tollgate.configureProvider('azure', { network_config: fast });
  const endpoint = mock.baseUrl;
  const keys: Record<string, Record<string, unknown>> = {
    'api-key': { value: primaryKey, azure_key_config: { endpoint, deployments, api_version: '2025-01-01-preview' } },
    entra: {
      azure_key_config: { endpoint, deployments, client_id: entra.clientId, client_secret: entra.clientSecret, tenant_id: entra.tenantId },
    },
    'default-version': { value: primaryKey, azure_key_config: { endpoint, deployments } },
    'key2-takes-over': { value: revokedKey, azure_key_config: { endpoint, deployments, key2: secondaryKey } },
    'both-revoked': { value: revokedKey, azure_key_config: { endpoint, deployments, key2: 'azure-revoked-key-0003' } },
    'seed-000': { value: revokedKey, azure_key_config: { endpoint, deployments } },
  };
  for (const [name, body] of Object.entries(keys)) ids[name] = await tollgate.addKey('azure', { name, ...body });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

const matrixCase = (keyName: string) =>
  azureMatrixCase({
    gateway: () => tollgate,
    mock: () => mock,
    headers: () => pinned(keyName),
    chatPath: '/openai/deployments/chat-prod/chat/completions',
    embeddingsPath: '/openai/deployments/embed-prod/embeddings',
  });

describeSdkMatrix('Azure OpenAI (api-key)', matrixCase('api-key'));
describeSdkMatrix('Azure OpenAI (Entra ID)', matrixCase('entra'));

describe('Azure OpenAI: deployments, api-version and auth on the wire', () => {
  it('maps the model to the key\'s deployment and sends the key\'s api-version and api-key', async () => {
    await openai('api-key').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'deploy' }] });
    const chat = chatRequests().at(-1)!;
    expect(chat.url).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2025-01-01-preview');
    expect(chat.deployment).toBe('chat-prod');
    expect(chat.headers['api-key']).toBe(primaryKey);
    expect(chat.headers.authorization).toBeUndefined();

    await openai('api-key').embeddings.create({ model: 'azure/text-embedding-3-small', input: 'deploy', encoding_format: 'float' });
    const embedding = embeddingRequests().at(-1)!;
    expect(embedding.url).toBe('/openai/deployments/embed-prod/embeddings?api-version=2025-01-01-preview');
    expect(embedding.headers['api-key']).toBe(primaryKey);
  });

  it('uses the GA api-version 2024-10-21 when the key names none', async () => {
    const stream = await openai('default-version').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'v' }], stream: true });
    for await (const chunk of stream) void chunk;
    expect(chatRequests().at(-1)!.url).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21');
  });

  it('sends an Entra bearer instead of an api-key for a key with client credentials', async () => {
    await openai('entra').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'entra' }] });
    const chat = chatRequests().at(-1)!;
    expect(chat.headers['api-key']).toBeUndefined();
    expect(chat.headers.authorization).toMatch(/^Bearer mock-entra-token-\d+$/);
    expect(mock.tokenRequests.at(-1)).toEqual({
      grant_type: 'client_credentials',
      client_id: entra.clientId,
      client_secret: entra.clientSecret,
      scope: AZURE_DEFAULT_SCOPE,
    });
  });

  it('refuses a model the key has no deployment for, without calling Azure', async () => {
    const before = mock.requests.length;
    const error = await openai('api-key')
      .chat.completions.create({ model: 'azure/gpt-4.1', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('pinned_key_not_eligible');
    expect(mock.requests.length).toBe(before);
  });

  it('passes Azure\'s content filter refusal on as a 400 content_filter', async () => {
    const error = await openai('api-key')
      .chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'please BLOCKME' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('content_filter');
  });
});

describe('Azure OpenAI: key2 takes over when the primary key answers 401', () => {
  const sentKeys = (since: number) => mock.requests.slice(since).map((request) => request.headers['api-key']);

  it('completes a chat with key2 after one 401 from the primary', async () => {
    const before = mock.requests.length;
    const { data, response } = await openai('key2-takes-over')
      .chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'fallback' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Echo: fallback');
    expect(response.headers.get('x-tollgate-key-id')).toBe(ids['key2-takes-over']);
    expect(sentKeys(before)).toEqual([revokedKey, secondaryKey]);
  });

  it('streams with key2, and embeds with key2', async () => {
    let before = mock.requests.length;
    const stream = await openai('key2-takes-over').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'stream fallback' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: stream fallback');
    expect(sentKeys(before)).toEqual([revokedKey, secondaryKey]);

    before = mock.requests.length;
    const embedding = await openai('key2-takes-over').embeddings.create({ model: 'azure/text-embedding-3-small', input: 'e', encoding_format: 'float' });
    expect(embedding.data[0]!.embedding[0]).toBeCloseTo(azureMockEmbedding('e', 8)[0]!, 6);
    expect(sentKeys(before)).toEqual([revokedKey, secondaryKey]);
  });

  it('serves the Anthropic SDK with key2 too', async () => {
    const before = mock.requests.length;
    const message = await new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: pinned('key2-takes-over') }).messages.create({
      model: 'azure/gpt-4o',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'anthropic fallback' }],
    });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: anthropic fallback' })]);
    expect(sentKeys(before)).toEqual([revokedKey, secondaryKey]);
  });

  it('does not mark a key failing that key2 rescued', async () => {
    const key = await tollgate.request({ method: 'GET', url: `/api/providers/azure/keys/${ids['key2-takes-over']}` });
    expect(key.body.status).not.toMatch(/^failing/);
  });

  it('answers 401 after exactly two tries when key2 is refused too, and marks the key failing', async () => {
    const before = mock.requests.length;
    const error = await openai('both-revoked')
      .chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain('azure-revoked');
    expect(sentKeys(before)).toEqual([revokedKey, 'azure-revoked-key-0003']);
    const key = await tollgate.request({ method: 'GET', url: `/api/providers/azure/keys/${ids['both-revoked']}` });
    expect(key.body.status).toMatch(/^failing: upstream answered 401/);
  });
});

describe('Azure OpenAI: seed 000 PUT /v1/models changes what goes on the wire', () => {
  const sentKeys = (since: number) => mock.requests.slice(since).map((request) => request.headers['api-key']);
  const ask = () => openai('seed-000').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'seed' }] });

  it('a revoked key without key2 fails after one try', async () => {
    const before = mock.requests.length;
    expect(await ask().catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(sentKeys(before)).toEqual([revokedKey]);
  });

  it('meta.key2 gives the key a secondary that takes over', async () => {
    const update = await seedUpdate(tollgate, { id: ids['seed-000'], meta: { key2: secondaryKey } });
    expect(update.status, update.text).toBe(200);
    expect(update.body.data.meta.key2).not.toContain(secondaryKey);
    const before = mock.requests.length;
    expect((await ask()).choices[0]?.message.content).toBe('Echo: seed');
    expect(sentKeys(before)).toEqual([revokedKey, secondaryKey]);
  });

  it('value replaces the primary key, and an env reference is read at use time', async () => {
    expect((await seedUpdate(tollgate, { id: ids['seed-000'], value: primaryKey })).status).toBe(200);
    let before = mock.requests.length;
    await ask();
    expect(sentKeys(before)).toEqual([primaryKey]);

    expect((await seedUpdate(tollgate, { id: ids['seed-000'], value: 'env.AZURE_ROTATED_KEY' })).status).toBe(200);
    tollgate.environment.AZURE_ROTATED_KEY = secondaryKey;
    before = mock.requests.length;
    await ask();
    expect(sentKeys(before)).toEqual([secondaryKey]);
  });
});

describe('Azure OpenAI: Entra ID tokens are fetched once and reused until they expire', () => {
  let entraMock: AzureMock;
  let gateway: LiveGateway;
  let client: OpenAI;

  beforeAll(async () => {
    entraMock = await startAzureMock({ deployments: mockDeployments, entra: { ...entra, expiresInSeconds: 3600 } });
    gateway = await startLiveGateway({ adapterOptions: { azureAuthorityHost: entraMock.baseUrl } });
    await gateway.configureProvider('azure', { network_config: fast });
    await gateway.addKey('azure', {
      name: 'entra',
      azure_key_config: { endpoint: entraMock.baseUrl, deployments, client_id: entra.clientId, client_secret: entra.clientSecret, tenant_id: entra.tenantId },
    });
    client = new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.dispose();
    await entraMock?.close();
  });

  const chat = () => client.chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'token' }] });
  const lastBearer = () => entraMock.requests.at(-1)!.headers.authorization;

  it('fetches one token for the first request and reuses it for chats, streams and embeddings', async () => {
    expect(entraMock.tokenRequests).toHaveLength(0);
    await chat();
    expect(entraMock.tokenRequests).toHaveLength(1);
    expect(lastBearer()).toBe('Bearer mock-entra-token-1');

    const stream = await client.chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 's' }], stream: true });
    for await (const chunk of stream) void chunk;
    await client.embeddings.create({ model: 'azure/text-embedding-3-small', input: 'e' });
    await Promise.all([chat(), chat(), chat()]);
    expect(entraMock.tokenRequests).toHaveLength(1);
    expect(new Set(entraMock.requests.map((request) => request.headers.authorization))).toEqual(new Set(['Bearer mock-entra-token-1']));
  });

  it('still reuses it half an hour later', async () => {
    gateway.clock.now += 30 * 60 * 1000;
    await chat();
    expect(entraMock.tokenRequests).toHaveLength(1);
    expect(lastBearer()).toBe('Bearer mock-entra-token-1');
  });

  it('fetches exactly one new token once the clock is past the expiry, shared by concurrent requests', async () => {
    gateway.clock.now += 31 * 60 * 1000;
    await Promise.all([chat(), chat(), chat(), chat()]);
    expect(entraMock.tokenRequests).toHaveLength(2);
    expect(entraMock.requests.slice(-4).map((request) => request.headers.authorization)).toEqual(Array(4).fill('Bearer mock-entra-token-2'));
    await chat();
    expect(entraMock.tokenRequests).toHaveLength(2);
  });
});

describe('Azure OpenAI: the provider base_url replaces the keys\' endpoints', () => {
  let gateway: LiveGateway;

  beforeAll(async () => {
    gateway = await startLiveGateway();
    // A trailing /openai, as copied from some portal pages, must not double the path.
    await gateway.configureProvider('azure', { network_config: { base_url: `${mock.baseUrl}/openai/`, ...fast } });
    // .invalid never resolves: a request sent to the key's endpoint would fail.
    await gateway.addKey('azure', { name: 'elsewhere', value: primaryKey, azure_key_config: { endpoint: 'https://tollgate-test.invalid', deployments } });
  });
  afterAll(async () => {
    await gateway?.dispose();
  });

  it('sends requests to base_url', async () => {
    const before = mock.requests.length;
    const completion = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: 'azure/gpt-4o',
      messages: [{ role: 'user', content: 'base url' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Echo: base url');
    expect(mock.requests.slice(before).map((request) => request.url)).toEqual(['/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21']);
  });
});

describe('Azure OpenAI: Entra ID refusing a key\'s client secret', () => {
  let gateway: LiveGateway;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    // random 0 picks the first eligible key, the one whose secret Entra refuses, so rotation is certain to be tried.
    gateway = await startLiveGateway({ adapterOptions: { azureAuthorityHost: mock.baseUrl }, random: () => 0 });
    await gateway.configureProvider('azure', { network_config: fast });
    keys.refused = await gateway.addKey('azure', {
      name: 'refused-secret',
      azure_key_config: { endpoint: mock.baseUrl, deployments, client_id: entra.clientId, client_secret: 'entra-client-secret-revoked', tenant_id: entra.tenantId },
    });
    keys.valid = await gateway.addKey('azure', { name: 'valid', value: primaryKey, azure_key_config: { endpoint: mock.baseUrl, deployments } });
  });
  afterAll(async () => {
    await gateway?.dispose();
  });

  it('moves on to the next key, as after a 401 from Azure itself, and marks the refused key failing', async () => {
    const tokenRequestsBefore = mock.tokenRequests.length;
    const { data, response } = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'rotate past entra' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Echo: rotate past entra');
    expect(response.headers.get('x-tollgate-key-id')).toBe(keys.valid);
    expect(mock.tokenRequests.slice(tokenRequestsBefore).map((form) => form.client_secret)).toEqual(['entra-client-secret-revoked']);
    const refused = await gateway.request({ method: 'GET', url: `/api/providers/azure/keys/${keys.refused}` });
    expect(refused.body.status).toMatch(/^failing/);
    expect(refused.text).not.toContain('entra-client-secret-revoked');
  });

  it('answers the pinned refused key with a 401 that names Entra and not the secret', async () => {
    const error = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-tollgate-key-id': keys.refused! } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as Error).message).toMatch(/Entra/);
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain('entra-client-secret-revoked');
  });
});
