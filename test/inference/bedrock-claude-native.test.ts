/**
 * `/v1/messages` served by Claude on Bedrock: the client's request reaches Bedrock's InvokeModel (or
 * InvokeModelWithResponseStream) as it was written, with Bedrock's `anthropic_version` and no model or stream in the
 * body, and Claude's reply reaches the client as Claude wrote it, its streamed events taken out of Bedrock's chunk
 * frames. Metering, the translated way for other Bedrock models, and the stream's failures are checked beside.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeInvokeReply, claudeStreamEvents, startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { createApiKey, ledgerRowsOf } from '../limits/limit-helpers.js';
import { sseEvents } from '../providers/malformed-reply-checks.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const bedrockApiKey = 'bedrock-api-key-native-0001';
const claude = 'anthropic.claude-3-5-haiku-20241022-v1:0';

let mock: BedrockMock;
let tollgate: LiveGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  mock = await startBedrockMock({ credentials: { accessKeyId: 'AKIATOLLGATENATIVE01', secretAccessKey: 'bedrock-native-secret-0001' }, apiKeys: [bedrockApiKey], region: 'us-east-1' });
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('bedrock', { network_config: { base_url: mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
  await tollgate.addKey('bedrock', { name: 'bedrock', value: bedrockApiKey });
  anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
});
afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

/** A request with what the Converse translation would reshape: a cache marker, a stop sequence, top_k, thinking. */
const question = {
  max_tokens: 2048,
  system: [{ type: 'text' as const, text: 'Answer from the manual.', cache_control: { type: 'ephemeral' as const } }],
  messages: [{ role: 'user' as const, content: 'What does page 3 say?' }],
  stop_sequences: ['\n\nHuman:'],
  top_k: 5,
  thinking: { type: 'enabled' as const, budget_tokens: 1024 },
};

async function streamThroughTollgate(body: Record<string, unknown>, apiKey = testAdminKey): Promise<{ status: number; text: string }> {
  const response = await fetch(`${tollgate.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { status: response.status, text: await response.text() };
}

describe('/v1/messages to Claude on Bedrock', () => {
  it("sends the client's request to InvokeModel as written and answers with Claude's message as written", async () => {
    const message = await anthropic.messages.create({ ...question, model: `bedrock/${claude}`, metadata: { user_id: 'u-1' } });
    const sent = mock.requests.at(-1)!;
    expect(sent.operation).toBe('invoke');
    expect(sent.modelId).toBe(claude);
    // Bedrock's version, no model nor stream (the address says both), no metadata (Bedrock's body has none).
    expect(sent.json).toEqual({ anthropic_version: 'bedrock-2023-05-31', ...question });
    // Claude's own message: its id, its model name, its thinking block before the text.
    expect(message.id).toMatch(/^msg_bdrk_/);
    expect(message.model).toBe('claude-3-5-haiku-20241022');
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(message.content[1]).toMatchObject({ type: 'text', text: 'What does page 3 say?' });
  });

  it('meters the reply from its usage', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new Anthropic({ apiKey: key.secret, baseURL: tollgate.url, maxRetries: 0 });
    const message = await keyed.messages.create({ ...question, model: `bedrock/${claude}` });
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ request_type: 'messages', status: 200, provider: 'bedrock' });
    expect(Number(rows[0]!.input_tokens)).toBe(message.usage.input_tokens);
    expect(Number(rows[0]!.output_tokens)).toBe(message.usage.output_tokens);
  });

  it("relays Claude's streamed events out of Bedrock's chunk frames, event for event", async () => {
    const events = claudeStreamEvents(claudeInvokeReply(claude, { ...question, anthropic_version: 'bedrock-2023-05-31' }));
    mock.enqueue({ claudeEvents: events });
    const { status, text } = await streamThroughTollgate({ ...question, model: `bedrock/${claude}` });
    expect(status).toBe(200);
    const relayed = sseEvents(text);
    expect(relayed.map((item) => JSON.parse(item.data) as unknown)).toEqual(events);
    expect(relayed.map((item) => item.event)).toEqual(events.map((event) => event.type));
    expect(mock.requests.at(-1)!.operation).toBe('invoke-with-response-stream');
    expect(mock.requests.at(-1)!.json).not.toHaveProperty('stream');
  });

  it("gives the SDK's stream helper Claude's message, thinking included, and meters it", async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new Anthropic({ apiKey: key.secret, baseURL: tollgate.url, maxRetries: 0 });
    const message = await keyed.messages.stream({ ...question, model: `bedrock/${claude}` }).finalMessage();
    expect(message.model).toBe('claude-3-5-haiku-20241022');
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows[0]).toMatchObject({ request_type: 'messages', status: 200, stream: 1 });
    expect(Number(rows[0]!.output_tokens)).toBe(message.usage.output_tokens);
  });

  it('ends with an error event, naming no secret, at an exception mid-stream or a stream cut short', async () => {
    const events = claudeStreamEvents(claudeInvokeReply(claude, { ...question, anthropic_version: 'bedrock-2023-05-31' }));
    const chunks = events.slice(0, 3).map((event) => ({ type: 'chunk', payload: { bytes: Buffer.from(JSON.stringify(event)).toString('base64') } }));
    mock.enqueue({ streamEvents: [...chunks, { type: 'throttlingException', payload: { message: `Too many requests (${bedrockApiKey})` }, messageType: 'exception' }] });
    const thrown = sseEvents((await streamThroughTollgate({ ...question, model: `bedrock/${claude}` })).text);
    expect(thrown.map((item) => item.event)).toEqual([...events.slice(0, 3).map((event) => event.type), 'error']);
    expect(thrown.at(-1)!.data).not.toContain(bedrockApiKey);

    mock.enqueue({ claudeEvents: events.slice(0, -1) });
    const cut = sseEvents((await streamThroughTollgate({ ...question, model: `bedrock/${claude}` })).text);
    expect(cut.at(-1)!.event).toBe('error');
  });

  it("goes through Converse for Bedrock's other models", async () => {
    const message = await anthropic.messages.create({ max_tokens: 64, messages: [{ role: 'user', content: 'hello' }], model: 'bedrock/amazon.nova-pro-v1:0' });
    expect(mock.requests.at(-1)!.operation).toBe('converse');
    expect(message.model).toBe('bedrock/amazon.nova-pro-v1:0');
  });
});
