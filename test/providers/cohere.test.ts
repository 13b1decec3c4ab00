/**
 * Cohere (v2 API) end to end: both official SDKs through Tollgate to the Cohere mock, which checks the bearer
 * key, the v2 chat and embed bodies and answers with Cohere's shapes and SSE event sequences.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCohereMock, type CohereMock, type RecordedRequest } from '../mocks/cohere-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { describeSdkMatrix } from './sdk-matrix.js';

const apiKey = 'cohere-upstream-key-0001';

let mock: CohereMock;
let tollgate: LiveGateway;

const chatRequests = (): RecordedRequest[] => mock.requests.filter((request) => request.path === '/v2/chat');
const embedRequests = (): RecordedRequest[] => mock.requests.filter((request) => request.path === '/v2/embed');

beforeAll(async () => {
  mock = await startCohereMock({ apiKeys: [apiKey] });
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('cohere', { network_config: { base_url: mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1 } });
  await tollgate.addKey('cohere', { name: 'main', value: apiKey });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

describeSdkMatrix('Cohere', {
  gateway: () => tollgate,
  chatModel: 'cohere/command-a-03-2025',
  replyTo: (prompt) => `You said: ${prompt}`,
  lastChatBody: () => chatRequests().at(-1)?.body,
  upstreamRequestCount: () => mock.requests.length,
  tools: { kind: 'native', city: 'Toronto' },
  toolResultsCarryIds: true,
  embeddings: {
    model: 'cohere/embed-english-v3.0',
    expected: (text, index) => [text.length, index, 0.5],
    lastBody: () => embedRequests().at(-1)?.body,
  },
});

describe('Cohere: what goes on the wire', () => {
  const client = () => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });

  it('sends the key as a bearer to /v2/chat and /v2/embed, with the model and stream flag in the body', async () => {
    await client().chat.completions.create({ model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'wire' }] });
    const plain = chatRequests().at(-1)!;
    expect(plain.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(plain.body).toMatchObject({ model: 'command-a-03-2025', messages: [{ role: 'user' }] });
    expect((plain.body as { stream?: boolean }).stream ?? false).toBe(false);

    const stream = await client().chat.completions.create({ model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'wire' }], stream: true });
    for await (const chunk of stream) void chunk;
    expect(chatRequests().at(-1)!.body).toMatchObject({ model: 'command-a-03-2025', stream: true });
    expect(String(chatRequests().at(-1)!.headers.accept)).toContain('text/event-stream');

    await client().embeddings.create({ model: 'cohere/embed-english-v3.0', input: ['one', 'two'], encoding_format: 'float' });
    const embed = embedRequests().at(-1)!;
    expect(embed.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(embed.body).toMatchObject({ model: 'embed-english-v3.0', texts: ['one', 'two'], embedding_types: ['float'] });
  });

  it('maps a tool_choice "required" to Cohere\'s REQUIRED', async () => {
    await client().chat.completions.create({
      model: 'cohere/command-a-03-2025',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      tool_choice: 'required',
    });
    expect(chatRequests().at(-1)!.body).toMatchObject({ tool_choice: 'REQUIRED', tools: [{ type: 'function', function: { name: 'get_weather' } }] });
  });

  it('reports a revoked key as an authentication error without echoing it', async () => {
    const gateway = await startLiveGateway();
    try {
      await gateway.configureProvider('cohere', { network_config: { base_url: mock.baseUrl } });
      await gateway.addKey('cohere', { name: 'revoked', value: 'cohere-revoked-key-0000' });
      const error = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
        .create({ model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(JSON.stringify((error as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain('cohere-revoked-key-0000');
      expect(chatRequests().at(-1)!.headers.authorization).toBe('Bearer cohere-revoked-key-0000');
    } finally {
      await gateway.dispose();
    }
  });
});
