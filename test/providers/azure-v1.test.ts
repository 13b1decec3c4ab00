/**
 * Azure OpenAI's v1 API end to end: a key whose api_version is `v1` (or `preview`) reaches Azure at
 * `<endpoint>/openai/v1/…` with the deployment as the body's `model`, as Azure's current surface takes it, and a
 * client's `/v1/responses` request goes to Azure's Responses API as written (what a stateless client such as Codex
 * needs: its earlier reasoning items reach the model). A key on a dated api-version keeps the classic deployment paths,
 * where Azure serves no Responses API, so its Responses requests are translated as before. The Azure mock refuses a v1
 * request without `model`, with a dated api-version, or for a deployment it does not know.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, ledgerRowsOf } from '../limits/limit-helpers.js';
import { azureMockEmbedding, startAzureMock, type AzureMock, type RecordedAzureRequest } from '../mocks/azure-mock.js';
import { MOCK_REASONING_TOKENS } from '../mocks/openai-responses-mock.js';
import { earlierReasoning, statelessSecondTurn } from '../support/responses-conversation.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { azureMatrixCase } from './azure-support.js';
import { sseEvents } from './malformed-reply-checks.js';
import { describeSdkMatrix } from './sdk-matrix.js';

const apiKey = 'azure-v1-key-0001';
const entra = { tenantId: 'contoso-v1', clientId: 'tollgate-v1-app', clientSecret: 'entra-v1-secret-0001' };
/** The mock's deployments (name to model), and the keys' mapping of the models clients name to them. */
const mockDeployments = { 'chat-prod': 'gpt-4o-2024-08-06', 'embed-prod': 'text-embedding-3-small', 'codex-prod': 'gpt-5-codex' };
const deployments = { 'gpt-4o': 'chat-prod', 'text-embedding-3-small': 'embed-prod', 'gpt-5-codex': 'codex-prod' };

let mock: AzureMock;
let tollgate: LiveGateway;
const ids: Record<string, string> = {};

const pinned = (name: string) => ({ 'x-tollgate-key-id': ids[name]! });
const openai = (name: string) => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: pinned(name) });
const lastRequest = (): RecordedAzureRequest => mock.requests.at(-1)!;

beforeAll(async () => {
  mock = await startAzureMock({ apiKeys: [apiKey], deployments: mockDeployments, entra });
  tollgate = await startLiveGateway({ adapterOptions: { azureAuthorityHost: mock.baseUrl }, environment: {} });
  await tollgate.configureProvider('azure', { network_config: { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
  const endpoint = mock.baseUrl;
  const keys: Record<string, Record<string, unknown>> = {
    v1: { value: apiKey, azure_key_config: { endpoint, deployments, api_version: 'v1' } },
    preview: { value: apiKey, azure_key_config: { endpoint, deployments, api_version: 'preview' } },
    dated: { value: apiKey, azure_key_config: { endpoint, deployments, api_version: '2025-01-01-preview' } },
    'v1-entra': {
      azure_key_config: { endpoint, deployments, api_version: 'v1', client_id: entra.clientId, client_secret: entra.clientSecret, tenant_id: entra.tenantId },
    },
  };
  for (const [name, body] of Object.entries(keys)) ids[name] = await tollgate.addKey('azure', { name, ...body });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

// Both official SDKs through the chat and Messages routes (streams, tools, embeddings) to Azure's v1 paths.
describeSdkMatrix(
  'Azure OpenAI (v1 API)',
  azureMatrixCase({
    gateway: () => tollgate,
    mock: () => mock,
    headers: () => pinned('v1'),
    chatPath: '/openai/v1/chat/completions',
    embeddingsPath: '/openai/v1/embeddings',
  }),
);

/** The second turn of a stateless conversation, as Codex holds one against Azure. */
const secondTurn = statelessSecondTurn('azure/gpt-5-codex');

describe("Azure's v1 API: chat completions and embeddings", () => {
  it('sends chat completions to /openai/v1 with the deployment as the model and no api-version', async () => {
    const completion = await openai('v1').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'on v1' }], max_tokens: 20 });
    expect(completion.choices[0]!.message.content).toBe('Echo: on v1');
    const sent = lastRequest();
    expect(sent.url).toBe('/openai/v1/chat/completions');
    expect(sent.headers['api-key']).toBe(apiKey);
    // The v1 API reads the deployment from the body, and its reasoning deployments take only the newer limit name.
    expect(sent.body).toMatchObject({ model: 'chat-prod', max_completion_tokens: 20 });
    expect(sent.body).not.toHaveProperty('max_tokens');
  });

  it('streams chat completions on the v1 API', async () => {
    const stream = await openai('v1').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'streamed v1' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: streamed v1');
    expect(lastRequest().url).toBe('/openai/v1/chat/completions');
  });

  it('names the preview surface with ?api-version=preview', async () => {
    await openai('preview').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'preview' }] });
    expect(lastRequest().url).toBe('/openai/v1/chat/completions?api-version=preview');
  });

  it('embeds on the v1 API', async () => {
    const result = await openai('v1').embeddings.create({ model: 'azure/text-embedding-3-small', input: 'vector me', encoding_format: 'float' });
    expect(result.data[0]!.embedding).toEqual(azureMockEmbedding('vector me', 8));
    expect(lastRequest().url).toBe('/openai/v1/embeddings');
    expect(lastRequest().body).toMatchObject({ model: 'embed-prod', input: 'vector me' });
  });

  it('keeps the classic deployment path for a key on a dated api-version', async () => {
    await openai('dated').chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'classic' }] });
    expect(lastRequest().url).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2025-01-01-preview');
  });
});

describe("/v1/responses to Azure's Responses API, as written", () => {
  it("sends the client's request to /openai/v1/responses under the deployment, and answers with Azure's Response", async () => {
    const { data: response, response: raw } = await openai('v1').responses.create(secondTurn).withResponse();
    const sent = lastRequest();
    expect(sent.url).toBe('/openai/v1/responses');
    expect(sent.headers['api-key']).toBe(apiKey);
    const { model: _model, ...asWritten } = secondTurn;
    expect(sent.body).toEqual({ model: 'codex-prod', ...asWritten });
    // Azure's own Response: its id, the deployment's model, a new reasoning item with its encrypted content.
    expect(response.id).toMatch(/^resp_/);
    expect(response.model).toBe('gpt-5-codex-2025-04-14');
    expect(response.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^gAAAAAB/) });
    expect(response.output_text).toBe('And times three?');
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(MOCK_REASONING_TOKENS);
    expect(raw.headers.get('x-tollgate-provider')).toBe('azure');
  });

  it('streams Azure’s events as they were sent, and the SDK’s helper builds the Response from them', async () => {
    const deltas: string[] = [];
    const stream = openai('v1').responses.stream(secondTurn);
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    expect(deltas.join('')).toBe('And times three?');
    expect(response.output[0]).toMatchObject({ type: 'reasoning' });
    expect(response.status).toBe('completed');
    expect(lastRequest().url).toBe('/openai/v1/responses');
    expect(lastRequest().body).toMatchObject({ model: 'codex-prod', stream: true, input: secondTurn.input });
  });

  it('meters the reply from its usage, streamed or not', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new OpenAI({ apiKey: key.secret, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: pinned('v1') });
    const whole = await keyed.responses.create(secondTurn);
    const streamed = await keyed.responses.stream(secondTurn).finalResponse();
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(2);
    for (const [index, response] of [whole, streamed].entries()) {
      expect(rows[index]).toMatchObject({ request_type: 'responses', status: 200, provider: 'azure', stream: index });
      expect(Number(rows[index]!.input_tokens)).toBe(response.usage!.input_tokens);
      expect(Number(rows[index]!.output_tokens)).toBe(response.usage!.output_tokens);
    }
  });

  it('authenticates with an Entra bearer on the v1 API as on the classic one', async () => {
    await openai('v1-entra').responses.create({ model: 'azure/gpt-5-codex', input: 'entra on v1' });
    const sent = lastRequest();
    expect(sent.url).toBe('/openai/v1/responses');
    expect(sent.headers['api-key']).toBeUndefined();
    expect(sent.headers.authorization).toMatch(/^Bearer mock-entra-token-\d+$/);
  });

  it("passes Azure's refusal of a request on in the error shape", async () => {
    // Without `store`, nothing is kept upstream: a reasoning item sent back without its encrypted content is not found.
    const { encrypted_content: _content, ...storedReasoning } = earlierReasoning;
    const input = secondTurn.input.map((item) => (item === earlierReasoning ? storedReasoning : item));
    const error = await openai('v1')
      .responses.create({ ...secondTurn, input })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("Item with id 'rs_earlier' not found");
    expect(lastRequest().url).toBe('/openai/v1/responses');
  });

  it("ends the stream with an error event, naming no secret, when Azure's stream fails", async () => {
    mock.enqueue({
      streamChunks: [
        { type: 'response.created', sequence_number: 0, response: { id: 'resp_1', object: 'response', status: 'in_progress', output: [], model: 'gpt-5-codex' } },
        { type: 'error', code: 'server_error', message: `The server had an error (key ${apiKey})`, param: null, sequence_number: 1 },
      ],
    });
    const response = await fetch(`${tollgate.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${testAdminKey}`, ...pinned('v1') },
      body: JSON.stringify({ model: 'azure/gpt-5-codex', input: 'fail midway', stream: true }),
    });
    const events = sseEvents(await response.text());
    expect(events.map((event) => event.event)).toEqual(['response.created', 'error']);
    const ending = JSON.parse(events.at(-1)!.data) as { sequence_number: number; message: string };
    expect(ending.sequence_number).toBe(1);
    expect(ending.message).toContain('The server had an error');
    expect(ending.message).not.toContain(apiKey);
  });

  it('translates Responses requests through chat completions for a key on a dated api-version', async () => {
    const response = await openai('dated').responses.create({ model: 'azure/gpt-4o', input: 'translated' });
    expect(lastRequest().url).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2025-01-01-preview');
    // Tollgate's Response, built from Azure's chat completion.
    expect(response.model).toBe('azure/gpt-4o');
    expect(response.output_text).toBe('Echo: translated');
  });
});
