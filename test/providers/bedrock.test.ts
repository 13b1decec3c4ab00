/**
 * AWS Bedrock end to end: both official SDKs through Tollgate to the Bedrock mock, which recomputes every SigV4
 * signature from the credentials it knows (region and service scope, signed headers, payload hash), demands the
 * session token of temporary credentials, or accepts a Bedrock API key as a bearer. Keys are made through the
 * management API (bedrock_key_config: access_key, secret_key, session_token, region, deployments, arn); the
 * provider's base_url replaces the regional host while the key's region still scopes the signature.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBedrockMock, vectorFor, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { claudeInvokeRequests, converseRequests, invokeRequests, scriptBedrockToolCall, scriptClaudeInvokeToolCall } from './bedrock-support.js';
import { describeSdkMatrix, type ProviderUnderTest } from './sdk-matrix.js';

const longTerm = { accessKeyId: 'AKIATOLLGATETEST0001', secretAccessKey: 'bedrock-secret-access-key-0001' };
const temporary = { accessKeyId: 'ASIATOLLGATETEST0002', secretAccessKey: 'bedrock-temporary-secret-0002', sessionToken: 'bedrock-session-token-0002' };
const bedrockApiKey = 'bedrock-api-key-0001';
const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };
const claude = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const profileArn = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/tollgate0test';
const mockReply = 'Hello from the Bedrock mock.';

/** Seed 000's `PUT /v1/models`, authenticated with x-maxim-api-key as that API documents. */
async function seedUpdate(gateway: LiveGateway, body: Record<string, unknown>): Promise<{ status: number; body: any; text: string }> {
  return gateway.request({ method: 'PUT', url: '/v1/models', body, admin: false, headers: { 'x-maxim-api-key': testAdminKey } });
}

function openai(gateway: LiveGateway, keyId: string): OpenAI {
  return new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': keyId } });
}

function matrixCase(mock: () => BedrockMock, gateway: () => LiveGateway, keyId: () => string): ProviderUnderTest {
  return {
    gateway,
    chatModel: `bedrock/${claude}`,
    get headers() {
      return { 'x-tollgate-key-id': keyId() };
    },
    replyTo: () => mockReply,
    lastChatBody: () => converseRequests(mock()).at(-1)?.json,
    upstreamRequestCount: () => mock().requests.length,
    tools: { kind: 'scripted', script: (call, stream) => scriptBedrockToolCall(mock(), call, stream) },
    toolResultsCarryIds: true,
    // /v1/messages reaches Claude as written, through InvokeModel, whose mock echoes the prompt under Claude's own name.
    messagesReplyModel: 'claude-3-5-haiku-20241022',
    messagesRoute: {
      replyTo: (prompt) => prompt,
      lastChatBody: () => claudeInvokeRequests(mock()).at(-1)?.json,
      tools: { kind: 'scripted', script: (call, stream) => scriptClaudeInvokeToolCall(mock(), call, stream) },
    },
    embeddings: {
      model: 'bedrock/amazon.titan-embed-text-v2:0',
      expected: (text) => vectorFor(text, 1024),
      lastBody: () => invokeRequests(mock()).at(-1)?.json,
    },
  };
}

describe('Bedrock with long-term access keys and Bedrock API keys', () => {
  let mock: BedrockMock;
  let tollgate: LiveGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mock = await startBedrockMock({ credentials: longTerm, apiKeys: [bedrockApiKey], region: 'eu-west-1' });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('bedrock', { network_config: { base_url: mock.baseUrl, ...fast } });
    const signing = { access_key: longTerm.accessKeyId, secret_key: longTerm.secretAccessKey, region: 'eu-west-1' };
    const keys: Record<string, Record<string, unknown>> = {
      signed: {
        bedrock_key_config: {
          ...signing,
          deployments: { 'claude-sonnet': 'eu.anthropic.claude-sonnet-4-20250514-v1:0', embedder: 'cohere.embed-multilingual-v3' },
        },
      },
      'api-key': { value: bedrockApiKey },
      profile: { bedrock_key_config: { ...signing, arn: profileArn } },
      'wrong-region': { bedrock_key_config: { ...signing, region: 'us-east-1' } },
      'stale-secret': { bedrock_key_config: { ...signing, secret_key: 'bedrock-secret-access-key-stale' } },
    };
    for (const [name, body] of Object.entries(keys)) ids[name] = await tollgate.addKey('bedrock', { name, ...body });
  });
  afterAll(async () => {
    await tollgate?.dispose();
    await mock?.close();
  });

  describeSdkMatrix('Bedrock (SigV4)', matrixCase(() => mock, () => tollgate, () => ids.signed!));
  describeSdkMatrix('Bedrock (Bedrock API key)', matrixCase(() => mock, () => tollgate, () => ids['api-key']!));

  it('signs with SigV4 scoped to the key\'s region and the bedrock service, at the gateway\'s clock', async () => {
    await openai(tollgate, ids.signed!).chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'sign' }] });
    const request = converseRequests(mock).at(-1)!;
    expect(request.url).toBe(`/model/${encodeURIComponent(claude)}/converse`);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIATOLLGATETEST0001\/20261123\/eu-west-1\/bedrock\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers['x-amz-date']).toBe('20261123T120000Z');
    expect(request.headers['x-amz-security-token']).toBeUndefined();
    expect(JSON.stringify(request.headers)).not.toContain(longTerm.secretAccessKey);
  });

  it('sends a Bedrock API key as a bearer, unsigned', async () => {
    const stream = await openai(tollgate, ids['api-key']!).chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'bearer' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(mockReply);
    const request = converseRequests(mock).at(-1)!;
    expect(request.url).toBe(`/model/${encodeURIComponent(claude)}/converse-stream`);
    expect(request.headers.authorization).toBe(`Bearer ${bedrockApiKey}`);
    expect(request.headers['x-amz-date']).toBeUndefined();
  });

  it('maps a model through the key\'s deployments, for chat and embeddings', async () => {
    const completion = await openai(tollgate, ids.signed!).chat.completions.create({ model: 'bedrock/claude-sonnet', messages: [{ role: 'user', content: 'mapped' }] });
    expect(completion.choices[0]?.message.content).toBe(mockReply);
    expect(converseRequests(mock).at(-1)!.modelId).toBe('eu.anthropic.claude-sonnet-4-20250514-v1:0');
    expect(converseRequests(mock).at(-1)!.url).toBe('/model/eu.anthropic.claude-sonnet-4-20250514-v1%3A0/converse');

    const embedding = await openai(tollgate, ids.signed!).embeddings.create({ model: 'bedrock/embedder', input: ['one', 'two'], encoding_format: 'float' });
    expect(embedding.data.map((entry) => entry.embedding[0])).toEqual([vectorFor('one', 1024)[0], vectorFor('two', 1024)[0]]);
    const invoke = invokeRequests(mock).at(-1)!;
    expect(invoke.modelId).toBe('cohere.embed-multilingual-v3');
    // Cohere Embed on Bedrock takes every text in one call, with the input type it requires.
    expect(invoke.json).toMatchObject({ texts: ['one', 'two'], input_type: 'search_document' });
  });

  it('fans Titan embeddings out one text per InvokeModel call, in order', async () => {
    const before = invokeRequests(mock).length;
    const embedding = await openai(tollgate, ids.signed!).embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: ['alpha', 'beta', 'gamma'], encoding_format: 'float' });
    expect(embedding.data.map((entry) => entry.embedding[0])).toEqual(['alpha', 'beta', 'gamma'].map((text) => vectorFor(text, 1024)[0]));
    const calls = invokeRequests(mock).slice(before);
    expect(calls.map((call) => (call.json as { inputText: string }).inputText).sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(calls.every((call) => call.modelId === 'amazon.titan-embed-text-v2:0')).toBe(true);
  });

  it('sends an application inference profile ARN as the model id when the key has one', async () => {
    await openai(tollgate, ids.profile!).chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'profile' }] });
    const request = converseRequests(mock).at(-1)!;
    expect(request.modelId).toBe(profileArn);
    expect(request.url).toBe(`/model/${encodeURIComponent(profileArn)}/converse`);
  });

  it('signs for the key\'s region: a key scoped to another region is refused by Bedrock', async () => {
    const error = await openai(tollgate, ids['wrong-region']!)
      .chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(converseRequests(mock).at(-1)!.headers.authorization).toContain('/us-east-1/bedrock/aws4_request');
  });

  it('seed 000: meta.secretAccessKey replaces a stale secret, and the signature verifies again', async () => {
    const id = ids['stale-secret']!;
    const ask = () => openai(tollgate, id).chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'rotated' }] });
    expect(await ask().catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await tollgate.request({ method: 'GET', url: `/api/providers/bedrock/keys/${id}` })).body.status).toMatch(/^failing/);

    const update = await seedUpdate(tollgate, { id, meta: { secretAccessKey: longTerm.secretAccessKey } });
    expect(update.status, update.text).toBe(200);
    expect(update.text).not.toContain(longTerm.secretAccessKey);
    expect((await ask()).choices[0]?.message.content).toBe(mockReply);
    expect(converseRequests(mock).at(-1)!.headers.authorization).toContain('Credential=AKIATOLLGATETEST0001/');
  });
});

describe('Bedrock with temporary credentials (session token)', () => {
  let mock: BedrockMock;
  let tollgate: LiveGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mock = await startBedrockMock({ credentials: temporary, region: 'us-west-2' });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('bedrock', { network_config: { base_url: mock.baseUrl, ...fast } });
    const signing = { access_key: temporary.accessKeyId, secret_key: temporary.secretAccessKey, region: 'us-west-2' };
    ids.temporary = await tollgate.addKey('bedrock', { name: 'temporary', bedrock_key_config: { ...signing, session_token: temporary.sessionToken } });
    ids['no-session'] = await tollgate.addKey('bedrock', { name: 'no-session', bedrock_key_config: signing });
  });
  afterAll(async () => {
    await tollgate?.dispose();
    await mock?.close();
  });

  describeSdkMatrix('Bedrock (SigV4 with a session token)', matrixCase(() => mock, () => tollgate, () => ids.temporary!));

  it('puts the session token on the wire as a signed x-amz-security-token', async () => {
    await openai(tollgate, ids.temporary!).chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'token' }] });
    await openai(tollgate, ids.temporary!).embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'token', encoding_format: 'float' });
    for (const request of [converseRequests(mock).at(-1)!, invokeRequests(mock).at(-1)!]) {
      expect(request.headers['x-amz-security-token']).toBe(temporary.sessionToken);
      const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization))?.[1]?.split(';');
      expect(signedHeaders).toContain('x-amz-security-token');
      expect(request.headers.authorization).toContain('Credential=ASIATOLLGATETEST0002/20261123/us-west-2/bedrock/aws4_request');
    }
  });

  it('seed 000: meta.sessionToken adds the token a key was missing', async () => {
    const id = ids['no-session']!;
    const ask = () => openai(tollgate, id).chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'session' }] });
    expect(await ask().catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(converseRequests(mock).at(-1)!.headers['x-amz-security-token']).toBeUndefined();

    const update = await seedUpdate(tollgate, { id, meta: { sessionToken: temporary.sessionToken } });
    expect(update.status, update.text).toBe(200);
    expect(update.text).not.toContain(temporary.sessionToken);
    expect((await ask()).choices[0]?.message.content).toBe(mockReply);
    expect(converseRequests(mock).at(-1)!.headers['x-amz-security-token']).toBe(temporary.sessionToken);

    // A replaced token replaces what is sent: the mock knows only the first one, so the key is refused again.
    expect((await seedUpdate(tollgate, { id, meta: { sessionToken: 'bedrock-session-token-expired' } })).status).toBe(200);
    expect(await ask().catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(converseRequests(mock).at(-1)!.headers['x-amz-security-token']).toBe('bedrock-session-token-expired');
  });
});
