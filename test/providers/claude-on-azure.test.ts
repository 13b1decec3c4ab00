/**
 * Claude deployments of an Azure resource (Claude in Microsoft Foundry) through an `azure` key, end to end: the key's
 * deployment for a Claude model is served by Anthropic's Messages API at `<endpoint>/anthropic/v1/messages`, under the
 * deployment's name, with the resource's key as `x-api-key` or an Entra ID bearer for Foundry's scope; the key's other
 * deployments stay on Azure OpenAI's paths. `/v1/messages` goes there as written; chat completions and Responses are
 * translated. The Azure mock checks the credential and the deployment as the resource does, and answers under
 * `/anthropic` as Anthropic's API does (the Anthropic mock behind it).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, ledgerRowsOf } from '../limits/limit-helpers.js';
import { azureMockEmbedding, startAzureMock, type AzureMock } from '../mocks/azure-mock.js';
import { claudeToolCallReply } from '../support/claude-tool-call.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { sseEvents } from './malformed-reply-checks.js';
import { describeSdkMatrix } from './sdk-matrix.js';

const apiKey = 'foundry-resource-key-0001';
const entra = { tenantId: 'contoso-foundry', clientId: 'tollgate-foundry-app', clientSecret: 'entra-foundry-secret-0001' };
const foundryScope = 'https://ai.azure.com/.default';
/** The mock resource's deployments (name to model), and the keys' mapping of the models clients name to them. */
const mockDeployments = { 'claude-sonnet-prod': 'claude-sonnet-4-5', 'embed-prod': 'text-embedding-3-small', 'chat-prod': 'gpt-4o-2024-08-06' };
const deployments = { 'claude-sonnet-4-5': 'claude-sonnet-prod', 'text-embedding-3-small': 'embed-prod', 'gpt-4o': 'chat-prod' };

let mock: AzureMock;
let tollgate: LiveGateway;
const ids: Record<string, string> = {};

const pinned = (name: string) => ({ 'x-tollgate-key-id': ids[name]! });
const openai = (name: string) => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: pinned(name) });
const anthropic = (name: string) => new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: pinned(name) });
const lastRequest = () => mock.requests.at(-1)!;
const claudeRequests = () => mock.requests.filter((request) => request.url.startsWith('/anthropic/'));

beforeAll(async () => {
  mock = await startAzureMock({ apiKeys: [apiKey], deployments: mockDeployments, entra: { ...entra, scope: foundryScope }, claude: true });
  tollgate = await startLiveGateway({ adapterOptions: { azureAuthorityHost: mock.baseUrl }, environment: {} });
  await tollgate.configureProvider('azure', { network_config: { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
  const endpoint = mock.baseUrl;
  const keys: Record<string, Record<string, unknown>> = {
    resource: { value: apiKey, azure_key_config: { endpoint, deployments } },
    // The endpoint as Foundry's pages give it to Anthropic's SDK, and Entra client credentials instead of a key.
    entra: {
      azure_key_config: { endpoint: `${endpoint}/anthropic/`, deployments, client_id: entra.clientId, client_secret: entra.clientSecret, tenant_id: entra.tenantId },
    },
    rotated: { value: 'foundry-revoked-key-0002', azure_key_config: { endpoint, deployments, key2: apiKey } },
    revoked: { value: 'foundry-revoked-key-0003', azure_key_config: { endpoint, deployments } },
    v1: { value: apiKey, azure_key_config: { endpoint, deployments, api_version: 'v1' } },
  };
  for (const [name, body] of Object.entries(keys)) ids[name] = await tollgate.addKey('azure', { name, ...body });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

// Both official SDKs through the chat and Messages routes (streams, tools, tool results) to a Claude deployment; the
// same key's embeddings deployment on Azure OpenAI's path.
describeSdkMatrix('Azure (Claude deployment)', {
  gateway: () => tollgate,
  chatModel: 'azure/claude-sonnet-4-5',
  // A Messages request goes as written, and its reply names the model as the resource does: the deployment.
  messagesReplyModel: 'claude-sonnet-prod',
  get headers() {
    return pinned('resource');
  },
  replyTo: (prompt) => prompt,
  lastChatBody: () => claudeRequests().at(-1)?.body,
  upstreamRequestCount: () => mock.requests.length,
  tools: {
    kind: 'scripted',
    script: (call, stream) => {
      const reply = claudeToolCallReply(call, 'claude-sonnet-4-5', 'msg_foundry_tool_0001');
      mock.claude!.enqueue(stream ? { streamEvents: reply.events } : { status: 200, body: reply.message });
    },
  },
  toolResultsCarryIds: true,
  embeddings: {
    model: 'azure/text-embedding-3-small',
    expected: (text) => azureMockEmbedding(text, 8),
    lastBody: () => mock.requests.filter((request) => request.url.startsWith('/openai/deployments/embed-prod/embeddings')).at(-1)?.body,
  },
});

describe("Claude deployments on an Azure key: Anthropic's Messages API under /anthropic", () => {
  it('translates a chat completion to a Messages request under the deployment, with the key as x-api-key', async () => {
    const completion = await openai('resource').chat.completions.create({ model: 'azure/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello Claude' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello Claude');
    expect(completion.model).toBe('claude-sonnet-4-5');
    const sent = lastRequest();
    expect(sent.url).toBe('/anthropic/v1/messages');
    expect(sent.headers['x-api-key']).toBe(apiKey);
    expect(sent.headers['api-key']).toBeUndefined();
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    // The Messages API requires max_tokens: the model's own maximum stands in for a client that sent none.
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-prod', messages: [{ role: 'user', content: 'Hello Claude' }] });
    expect((sent.body as { max_tokens: number }).max_tokens).toBeGreaterThanOrEqual(4096);
  });

  it("sends a Messages request as written and answers with the resource's message and request id", async () => {
    const { data: message, response } = await anthropic('resource')
      .messages.create({ model: 'azure/claude-sonnet-4-5', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'as written' }], stop_sequences: ['never'] })
      .withResponse();
    expect(lastRequest().url).toBe('/anthropic/v1/messages');
    expect(lastRequest().body).toEqual({
      model: 'claude-sonnet-prod',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'as written' }],
      stop_sequences: ['never'],
    });
    expect(message.id).toMatch(/^msg_/);
    expect(message.content).toEqual([{ type: 'text', text: 'as written' }]);
    expect(response.headers.get('request-id')).toMatch(/^req_mock/);
    expect(response.headers.get('x-tollgate-provider')).toBe('azure');
  });

  it('keeps the OpenAI deployments of the same key on Azure OpenAI’s paths', async () => {
    const completion = await openai('resource').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'still OpenAI' }] });
    expect(completion.choices[0]!.message.content).toBe('Echo: still OpenAI');
    expect(lastRequest().url).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21');
    expect(lastRequest().headers['api-key']).toBe(apiKey);
  });

  it("authenticates with an Entra bearer for Foundry's scope, from an endpoint given with /anthropic", async () => {
    const before = mock.tokenRequests.length;
    const message = await anthropic('entra').messages.create({ model: 'azure/claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'with Entra' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'with Entra' }]);
    const sent = lastRequest();
    expect(sent.url).toBe('/anthropic/v1/messages');
    expect(sent.headers.authorization).toMatch(/^Bearer mock-entra-token-\d+$/);
    expect(sent.headers['x-api-key']).toBeUndefined();
    expect(mock.tokenRequests.slice(before)).toEqual([expect.objectContaining({ client_id: entra.clientId, scope: foundryScope })]);
  });

  it('tries key2 once after the primary key is refused, and passes a refusal of both on without the key', async () => {
    const message = await anthropic('rotated').messages.create({ model: 'azure/claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'rotated' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'rotated' }]);
    const [refused, retried] = mock.requests.slice(-2);
    expect(refused!.headers['x-api-key']).toBe('foundry-revoked-key-0002');
    expect(retried!.headers['x-api-key']).toBe(apiKey);

    const error = await anthropic('revoked')
      .messages.create({ model: 'azure/claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'revoked' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const refusal = error as InstanceType<typeof Anthropic.APIError>;
    expect(refusal.status).toBeGreaterThanOrEqual(400);
    expect(refusal.status).toBeLessThan(500);
    expect(JSON.stringify(refusal.error)).not.toContain('foundry-revoked-key-0003');
  });

  it("passes Claude's refusal of a request on with Anthropic's type and message", async () => {
    const error = await anthropic('resource')
      .messages.create({
        model: 'azure/claude-sonnet-4-5',
        max_tokens: 32,
        messages: [
          { role: 'user', content: 'one' },
          { role: 'user', content: 'two' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).message).toContain('roles must alternate');
    expect(lastRequest().url).toBe('/anthropic/v1/messages');
  });

  it('streams a chat completion and meters it from the usage Claude reported', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new OpenAI({ apiKey: key.secret, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: pinned('resource') });
    const stream = await keyed.chat.completions.create({
      model: 'azure/claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'stream and count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('stream and count');
    expect(lastRequest().body).toMatchObject({ model: 'claude-sonnet-prod', stream: true });
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ request_type: 'chat', status: 200, provider: 'azure', stream: 1 });
    expect(Number(rows[0]!.input_tokens)).toBe(usage!.prompt_tokens);
    expect(Number(rows[0]!.output_tokens)).toBe(usage!.completion_tokens);
  });

  it("ends a Messages stream with Claude's error event, naming no key, when the stream fails", async () => {
    mock.claude!.enqueue({
      streamEvents: [
        { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-prod', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } } },
        { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: `Overloaded (key ${apiKey})` } } },
      ],
    });
    const response = await fetch(`${tollgate.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': testAdminKey, ...pinned('resource') },
      body: JSON.stringify({ model: 'azure/claude-sonnet-4-5', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'fail midway' }] }),
    });
    const events = sseEvents(await response.text());
    expect(events.map((event) => event.event)).toEqual(['message_start', 'error']);
    const ending = events.at(-1)!.data;
    expect(ending).toContain('overloaded_error');
    expect(ending).not.toContain(apiKey);
  });

  it('estimates token counts for a Claude deployment, for which Foundry documents no counter', async () => {
    const before = mock.requests.length;
    const { data: count, response } = await anthropic('resource')
      .messages.countTokens({ model: 'azure/claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me on Azure' }] })
      .withResponse();
    expect(count.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-tollgate-token-count')).toBe('estimated');
    expect(mock.requests.length).toBe(before);
  });

  it('translates /v1/responses to Messages for a Claude deployment, even on a key on the v1 API', async () => {
    const response = await openai('v1').responses.create({ model: 'azure/claude-sonnet-4-5', input: 'from Responses' });
    expect(response.output_text).toBe('from Responses');
    expect(lastRequest().url).toBe('/anthropic/v1/messages');
    expect(lastRequest().body).toMatchObject({ model: 'claude-sonnet-prod', messages: [{ role: 'user' }] });
  });
});
