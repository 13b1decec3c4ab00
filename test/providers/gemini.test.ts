/**
 * The Gemini API (AI Studio) end to end: both official SDKs through Tollgate to the Google mock, which checks the
 * `x-goog-api-key` header, the generateContent body rules and `alt=sse` streams.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleMock, type GoogleMock, type RecordedRequest } from '../mocks/google-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { describeSdkMatrix } from './sdk-matrix.js';

const apiKey = 'gemini-upstream-key-0001';
const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };

let mock: GoogleMock;
let tollgate: LiveGateway;
let keyId: string;

const generateRequests = (): RecordedRequest[] => mock.requests.filter((request) => /:(generateContent|streamGenerateContent)$/.test(request.path));
const embedRequests = (): RecordedRequest[] => mock.requests.filter((request) => request.path.endsWith(':batchEmbedContents'));

beforeAll(async () => {
  mock = await startGoogleMock({ apiKeys: [apiKey] });
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('gemini', { network_config: { base_url: mock.baseUrl, ...fast } });
  keyId = await tollgate.addKey('gemini', { name: 'main', value: apiKey });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

describeSdkMatrix('Gemini API', {
  gateway: () => tollgate,
  chatModel: 'gemini/gemini-2.5-flash',
  replyTo: (prompt) => `You said: ${prompt}`,
  lastChatBody: () => generateRequests().at(-1)?.body,
  upstreamRequestCount: () => mock.requests.length,
  tools: { kind: 'native', city: 'Paris' },
  // Gemini pairs a functionResponse with its call by name; the id stays inside Tollgate.
  toolResultsCarryIds: false,
  embeddings: {
    model: 'gemini/gemini-embedding-001',
    expected: (text, index) => [text.length, index, 0.5, 0.5],
    lastBody: () => embedRequests().at(-1)?.body,
  },
});

describe('Gemini API: what goes on the wire', () => {
  const client = () => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });

  it('sends the key as x-goog-api-key to the model paths, never in the URL', async () => {
    await client().chat.completions.create({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'path check' }] });
    const plain = generateRequests().at(-1)!;
    expect(plain.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(plain.query).toBe('');
    expect(plain.headers['x-goog-api-key']).toBe(apiKey);
    expect(plain.headers.authorization).toBeUndefined();

    const stream = await client().chat.completions.create({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'stream path' }], stream: true });
    for await (const chunk of stream) void chunk;
    const streamed = generateRequests().at(-1)!;
    expect(streamed.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(streamed.query).toBe('alt=sse');
    expect(streamed.headers['x-goog-api-key']).toBe(apiKey);

    await client().embeddings.create({ model: 'gemini/gemini-embedding-001', input: ['x', 'y'], encoding_format: 'float' });
    const embed = embedRequests().at(-1)!;
    expect(embed.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect((embed.body as { requests: Array<{ model: string }> }).requests.map((entry) => entry.model)).toEqual([
      'models/gemini-embedding-001',
      'models/gemini-embedding-001',
    ]);
    expect(JSON.stringify(mock.requests.map((request) => request.query))).not.toContain(apiKey);
  });

  it('names the served key in x-tollgate-key-id', async () => {
    const { response } = await client()
      .chat.completions.create({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'who served?' }] })
      .withResponse();
    expect(response.headers.get('x-tollgate-key-id')).toBe(keyId);
  });
});

describe('Gemini API: an invalid key (Google answers 400 API_KEY_INVALID)', () => {
  let gateway: LiveGateway;
  let badKey: string;
  let goodKey: string;

  beforeAll(async () => {
    // random 0 picks the first eligible key, the invalid one, so the rotation is certain to be exercised.
    gateway = await startLiveGateway({ random: () => 0 });
    await gateway.configureProvider('gemini', { network_config: { base_url: mock.baseUrl, ...fast } });
    badKey = await gateway.addKey('gemini', { name: 'revoked', value: 'gemini-revoked-key-0000' });
    goodKey = await gateway.addKey('gemini', { name: 'valid', value: apiKey });
  });
  afterAll(async () => {
    await gateway?.dispose();
  });

  it('rotates to the next key, like any other provider answering 401, and marks the invalid key failing', async () => {
    const { data, response } = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'rotate' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('You said: rotate');
    expect(response.headers.get('x-tollgate-key-id')).toBe(goodKey);
    const tried = mock.requests.slice(-2).map((request) => request.headers['x-goog-api-key']);
    expect(tried).toEqual(['gemini-revoked-key-0000', apiKey]);
    const stored = await gateway.request({ method: 'GET', url: `/api/providers/gemini/keys/${badKey}` });
    expect(stored.body.status).toMatch(/^failing/);
  });

  it('is an authentication error for the client when pinned', async () => {
    const before = mock.requests.length;
    const error = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-tollgate-key-id': badKey } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain('gemini-revoked-key-0000');
    expect(mock.requests.length - before).toBe(1);
  });
});
