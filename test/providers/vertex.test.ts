/**
 * Google Vertex AI end to end: both official SDKs through Tollgate to the Google mock, for Gemini models
 * (generateContent, streamGenerateContent?alt=sse, predict for embeddings) and Claude models (rawPredict and
 * streamRawPredict under publishers/anthropic). Keys carry a real RSA service account whose token_uri is the mock:
 * the mock verifies the RS256 JWT assertion before issuing a bearer, and refuses model calls without one it issued.
 * The provider's base_url replaces the regional host; project and region still shape the path.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { describeSdkMatrix } from './sdk-matrix.js';
import { chatRequests, createKeyPair, modelRequests, scriptClaudeToolCall, serviceAccountFor, type ServiceAccount } from './vertex-support.js';

const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };
const claude = 'claude-sonnet-4-5@20250929';
const projectPath = '/v1/projects/tollgate-test/locations/us-east5';
const keyPair = createKeyPair();

let mock: GoogleMock;
let tollgate: LiveGateway;
let account: ServiceAccount;
const ids: Record<string, string> = {};

const vertexConfig = (extra: Record<string, unknown> = {}) => ({ project_id: 'tollgate-test', region: 'us-east5', auth_credentials: account.json, ...extra });
const openai = (keyName: string) =>
  new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids[keyName]! } });

beforeAll(async () => {
  mock = await startGoogleMock({ serviceAccountPublicKeyPem: keyPair.publicKeyPem });
  account = serviceAccountFor(keyPair, mock.tokenUrl, 'tollgate@tollgate-test.iam.gserviceaccount.com');
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('vertex', { network_config: { base_url: mock.baseUrl, ...fast } });
  ids.plain = await tollgate.addKey('vertex', { name: 'plain', vertex_key_config: vertexConfig() });
  ids.mapped = await tollgate.addKey('vertex', {
    name: 'mapped',
    vertex_key_config: vertexConfig({ deployments: { fast: 'gemini-2.5-flash', sonnet: claude, embedder: 'gemini-embedding-001' } }),
  });
  // value-or-config: the service-account JSON may sit in value, the config giving only project and region.
  ids['json-in-value'] = await tollgate.addKey('vertex', { name: 'json-in-value', value: account.json, vertex_key_config: { project_id: 'tollgate-test', region: 'us-east5' } });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

const embeddings = {
  model: 'vertex/text-embedding-005',
  expected: (text: string, index: number) => [text.length, index, 0.5, 0.5],
  lastBody: () => modelRequests(mock).filter((request) => request.path.endsWith(':predict')).at(-1)?.body,
};

describeSdkMatrix('Vertex AI (Gemini)', {
  gateway: () => tollgate,
  chatModel: 'vertex/gemini-2.5-flash',
  get headers() {
    return { 'x-tollgate-key-id': ids.plain! };
  },
  replyTo: (prompt) => `You said: ${prompt}`,
  lastChatBody: () => chatRequests(mock).at(-1)?.body,
  upstreamRequestCount: () => modelRequests(mock).length,
  tools: { kind: 'native', city: 'Paris' },
  toolResultsCarryIds: false,
  embeddings,
});

describeSdkMatrix('Vertex AI (Claude via rawPredict)', {
  gateway: () => tollgate,
  chatModel: `vertex/${claude}`,
  messagesReplyModel: claude,
  get headers() {
    return { 'x-tollgate-key-id': ids.plain! };
  },
  replyTo: (prompt) => `Claude heard: ${prompt}`,
  lastChatBody: () => chatRequests(mock).at(-1)?.body,
  upstreamRequestCount: () => modelRequests(mock).length,
  tools: { kind: 'scripted', script: (call, stream) => scriptClaudeToolCall(mock, call, stream, claude) },
  toolResultsCarryIds: true,
  embeddings,
});

describe('Vertex AI: paths, publishers and bearer tokens on the wire', () => {
  it('calls Gemini models under publishers/google with the project and region, streams with alt=sse', async () => {
    await openai('plain').chat.completions.create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content: 'path' }] });
    let request = chatRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/google/models/gemini-2.5-flash:generateContent`);
    expect(request.headers.authorization).toMatch(/^Bearer ya29\.mock-\d+-tollgate@tollgate-test\.iam\.gserviceaccount\.com$/);

    const stream = await openai('plain').chat.completions.create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content: 'path' }], stream: true });
    for await (const chunk of stream) void chunk;
    request = chatRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/google/models/gemini-2.5-flash:streamGenerateContent`);
    expect(request.query).toBe('alt=sse');
  });

  it('calls Claude models under publishers/anthropic with the Vertex Messages body', async () => {
    await new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids.plain! } }).messages.create({
      model: `vertex/${claude}`,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'raw' }],
    });
    let request = chatRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/anthropic/models/${claude}:rawPredict`);
    expect(request.body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', max_tokens: 64 });
    expect(request.body).not.toHaveProperty('model');

    const stream = await openai('plain').chat.completions.create({ model: `vertex/${claude}`, messages: [{ role: 'user', content: 'raw' }], stream: true });
    for await (const chunk of stream) void chunk;
    request = chatRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/anthropic/models/${claude}:streamRawPredict`);
    expect(request.body).toMatchObject({ stream: true });
  });

  it("sends a Messages request to Claude as the client wrote it and answers with Claude's reply as written", async () => {
    const reply = {
      id: 'msg_vrtx_01Native',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [
        { type: 'text', text: 'The grass ' },
        { type: 'text', text: 'is green', citations: [{ type: 'char_location', cited_text: 'green', document_index: 0, document_title: null, start_char_index: 0, end_char_index: 5 }] },
      ],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
    };
    mock.enqueue({ status: 200, body: reply });
    const client = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids.plain! } });
    const request = { max_tokens: 64, top_k: 3, messages: [{ role: 'user' as const, content: 'cite it' }] };
    const message = await client.messages.create({ ...request, model: `vertex/${claude}` });
    expect(message).toEqual(reply);
    // Vertex names the model in the address and takes its own version in the body.
    expect(chatRequests(mock).at(-1)!.body).toEqual({ anthropic_version: 'vertex-2023-10-16', ...request });
  });

  it("carries the client's anthropic-beta to Claude as the header the Anthropic publisher reads, and not to Gemini", async () => {
    const client = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids.plain! } });
    await client.beta.messages.create({ model: `vertex/${claude}`, max_tokens: 64, messages: [{ role: 'user', content: 'beta' }], betas: ['context-1m-2025-08-07'] });
    let request = chatRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/anthropic/models/${claude}:rawPredict`);
    expect(request.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    expect(request.body).not.toHaveProperty('anthropic_beta');

    await client.beta.messages.countTokens({ model: `vertex/${claude}`, messages: [{ role: 'user', content: 'beta' }], betas: ['context-1m-2025-08-07'] });
    request = modelRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/anthropic/models/count-tokens:rawPredict`);
    // As the SDK sent it: its beta counter adds the beta that once gated the count endpoint.
    expect(request.headers['anthropic-beta']).toBe('context-1m-2025-08-07,token-counting-2024-11-01');

    await client.beta.messages.create({ model: 'vertex/gemini-2.5-flash', max_tokens: 64, messages: [{ role: 'user', content: 'beta' }], betas: ['context-1m-2025-08-07'] });
    request = chatRequests(mock).at(-1)!;
    expect(request.path).toBe(`${projectPath}/publishers/google/models/gemini-2.5-flash:generateContent`);
    expect(request.headers['anthropic-beta']).toBeUndefined();
  });

  it('maps models through the key\'s deployments, Gemini, Claude and embeddings', async () => {
    const gemini = await openai('mapped').chat.completions.create({ model: 'vertex/fast', messages: [{ role: 'user', content: 'alias' }] });
    expect(gemini.choices[0]?.message.content).toBe('You said: alias');
    expect(chatRequests(mock).at(-1)!.path).toBe(`${projectPath}/publishers/google/models/gemini-2.5-flash:generateContent`);

    const sonnet = await openai('mapped').chat.completions.create({ model: 'vertex/sonnet', messages: [{ role: 'user', content: 'alias' }] });
    expect(sonnet.choices[0]?.message.content).toBe('Claude heard: alias');
    expect(chatRequests(mock).at(-1)!.path).toBe(`${projectPath}/publishers/anthropic/models/${claude}:rawPredict`);

    // gemini-embedding-001 takes one instance per call, so two inputs are two predict calls.
    const before = modelRequests(mock).length;
    const embedding = await openai('mapped').embeddings.create({ model: 'vertex/embedder', input: ['one', 'three'], encoding_format: 'float' });
    expect(embedding.data.map((entry) => entry.embedding)).toEqual([
      [3, 0, 0.5, 0.5],
      [5, 0, 0.5, 0.5],
    ]);
    const calls = modelRequests(mock).slice(before);
    expect(calls.map((call) => call.path)).toEqual(Array(2).fill(`${projectPath}/publishers/google/models/gemini-embedding-001:predict`));
  });

  it('refuses a model missing from a key\'s deployments without calling Vertex', async () => {
    const before = mock.requests.length;
    const error = await openai('mapped')
      .chat.completions.create({ model: 'vertex/gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(mock.requests.length).toBe(before);
  });

  it('signs with a service account given in value', async () => {
    const completion = await openai('json-in-value').chat.completions.create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content: 'value' }] });
    expect(completion.choices[0]?.message.content).toBe('You said: value');
  });
});

describe('Vertex AI: access tokens are fetched once and reused until they expire', () => {
  let tokenMock: GoogleMock;
  let gateway: LiveGateway;
  let client: OpenAI;

  beforeAll(async () => {
    tokenMock = await startGoogleMock({ serviceAccountPublicKeyPem: keyPair.publicKeyPem, tokenLifetimeSeconds: 3600 });
    const own = serviceAccountFor(keyPair, tokenMock.tokenUrl, 'tokens@tollgate-test.iam.gserviceaccount.com');
    gateway = await startLiveGateway();
    await gateway.configureProvider('vertex', { network_config: { base_url: tokenMock.baseUrl, ...fast } });
    await gateway.addKey('vertex', { name: 'tokens', vertex_key_config: { project_id: 'tollgate-test', region: 'us-east5', auth_credentials: own.json } });
    client = new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.dispose();
    await tokenMock?.close();
  });

  const chat = (model = 'vertex/gemini-2.5-flash') => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'token' }] });
  const bearers = (count: number) => modelRequests(tokenMock).slice(-count).map((request) => request.headers.authorization);
  const token = (number: number) => `Bearer ya29.mock-${number}-tokens@tollgate-test.iam.gserviceaccount.com`;

  it('fetches one token (an RS256 JWT grant at token_uri) and reuses it for Gemini, Claude, streams and embeddings', async () => {
    expect(tokenMock.tokenRequests).toBe(0);
    await chat();
    expect(tokenMock.tokenRequests).toBe(1);
    const grant = new URLSearchParams(tokenMock.requests.find((request) => request.path === '/token')!.rawBody);
    expect(grant.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const claims = JSON.parse(Buffer.from(grant.get('assertion')!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'tokens@tollgate-test.iam.gserviceaccount.com', aud: tokenMock.tokenUrl, iat: gateway.clock.now / 1000 });

    await chat(`vertex/${claude}`);
    const stream = await client.chat.completions.create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content: 's' }], stream: true });
    for await (const chunk of stream) void chunk;
    await client.embeddings.create({ model: 'vertex/text-embedding-005', input: 'e' });
    await Promise.all([chat(), chat(), chat()]);
    expect(tokenMock.tokenRequests).toBe(1);
    expect(new Set(modelRequests(tokenMock).map((request) => request.headers.authorization))).toEqual(new Set([token(1)]));
  });

  it('still reuses it half an hour later', async () => {
    gateway.clock.now += 30 * 60 * 1000;
    await chat();
    expect(tokenMock.tokenRequests).toBe(1);
    expect(bearers(1)).toEqual([token(1)]);
  });

  it('fetches exactly one new token once the clock is past the expiry, shared by concurrent requests', async () => {
    gateway.clock.now += 31 * 60 * 1000;
    await Promise.all([chat(), chat(`vertex/${claude}`), chat(), chat()]);
    expect(tokenMock.tokenRequests).toBe(2);
    expect(bearers(4)).toEqual(Array(4).fill(token(2)));
    await chat();
    expect(tokenMock.tokenRequests).toBe(2);
  });
});

describe('Vertex AI: Anthropic-only features reach Claude through /v1/messages', () => {
  const cached = async (model: string) => {
    await new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids.mapped! } }).messages.create({
      model,
      max_tokens: 64,
      system: [{ type: 'text', text: 'A long shared preamble.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'cached question', cache_control: { type: 'ephemeral' } }] }],
    });
    return chatRequests(mock).at(-1)!;
  };

  it('keeps cache_control for a Claude model named by its Vertex id', async () => {
    const previous = ids.mapped;
    ids.mapped = ids.plain!;
    try {
      const request = await cached(`vertex/${claude}`);
      expect(JSON.stringify(request.body)).toContain('"cache_control":{"type":"ephemeral"}');
    } finally {
      ids.mapped = previous!;
    }
  });

  it('keeps cache_control for a Claude model reached through a deployment alias', async () => {
    const request = await cached('vertex/sonnet');
    expect(request.path).toBe(`${projectPath}/publishers/anthropic/models/${claude}:rawPredict`);
    expect(JSON.stringify(request.body)).toContain('"cache_control":{"type":"ephemeral"}');
  });
});

describe('Vertex AI: token counts (/v1/messages/count_tokens)', () => {
  const anthropic = (keyName: string) =>
    new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids[keyName]! } });
  const question = {
    system: 'Answer briefly.',
    messages: [{ role: 'user' as const, content: 'How many moons has Mars?' }],
    tools: [{ name: 'lookup', input_schema: { type: 'object' as const } }],
  };

  it("asks Vertex's countTokens for a Gemini model, with only the members its CountTokensRequest takes", async () => {
    const before = modelRequests(mock).length;
    const { data, response } = await anthropic('plain').messages.countTokens({ ...question, model: 'vertex/gemini-2.5-flash' }).withResponse();
    const sent = modelRequests(mock).slice(before);
    expect(sent.map((request) => request.path)).toEqual([`${projectPath}/publishers/google/models/gemini-2.5-flash:countTokens`]);
    expect(sent[0]!.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
    const body = sent[0]!.body as Record<string, any>;
    // No toolConfig or safetySettings, which Vertex refuses here (and no generationConfig: the count sets none).
    expect(Object.keys(body).sort()).toEqual(['contents', 'systemInstruction', 'tools']);
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'How many moons has Mars?' }] }]);
    const text = JSON.stringify(body.contents) + JSON.stringify(body.systemInstruction) + JSON.stringify(body.tools);
    expect(data.input_tokens).toBe(Math.ceil(text.length / 4));
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
  });

  it("asks the Anthropic publisher's count-tokens endpoint for a Claude model, naming the deployed model in the body", async () => {
    for (const [keyName, model] of [['plain', `vertex/${claude}`], ['mapped', 'vertex/sonnet']] as const) {
      const before = modelRequests(mock).length;
      const { data, response } = await anthropic(keyName).messages.countTokens({ ...question, model }).withResponse();
      const sent = modelRequests(mock).slice(before);
      // One address for every Claude model; the mock refuses a body without the model and the Vertex version.
      expect(sent.map((request) => request.path)).toEqual([`${projectPath}/publishers/anthropic/models/count-tokens:rawPredict`]);
      expect(sent[0]!.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
      const body = sent[0]!.body as Record<string, any>;
      expect(body).toEqual({ ...question, model: claude, anthropic_version: 'vertex-2023-10-16' });
      const text = JSON.stringify(body.messages) + JSON.stringify(body.system) + JSON.stringify(body.tools);
      expect(data.input_tokens).toBe(Math.ceil(text.length / 4));
      expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
    }
  });
});

describe('Vertex AI: the token endpoint refusing a service account', () => {
  let gateway: LiveGateway;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    // Signed with a key the mock does not know, so Google's token endpoint answers invalid_grant.
    const stranger = serviceAccountFor(createKeyPair(), mock.tokenUrl, 'stranger@tollgate-test.iam.gserviceaccount.com');
    // random 0 picks the first eligible key, the refused one, so rotation is certain to be tried.
    gateway = await startLiveGateway({ random: () => 0 });
    await gateway.configureProvider('vertex', { network_config: { base_url: mock.baseUrl, ...fast } });
    keys.refused = await gateway.addKey('vertex', { name: 'refused', vertex_key_config: { ...vertexConfig(), auth_credentials: stranger.json } });
    keys.valid = await gateway.addKey('vertex', { name: 'valid', vertex_key_config: vertexConfig() });
  });
  afterAll(async () => {
    await gateway?.dispose();
  });

  it('moves on to the next key and marks the refused one failing', async () => {
    const { data, response } = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content: 'rotate past google' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('You said: rotate past google');
    expect(response.headers.get('x-tollgate-key-id')).toBe(keys.valid);
    const refused = await gateway.request({ method: 'GET', url: `/api/providers/vertex/keys/${keys.refused}` });
    expect(refused.body.status).toMatch(/^failing/);
  });

  it('answers the pinned refused key with a 401', async () => {
    const error = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-tollgate-key-id': keys.refused! } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as Error).message).toMatch(/token endpoint/);
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });
});
