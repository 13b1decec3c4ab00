import { generateKeyPairSync } from 'node:crypto';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, ResolvedKey, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { startGoogleMock, type GoogleMock } from '../../../test/mocks/google-mock.js';
import { createVertexAdapter } from './index.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

let mock: GoogleMock;
beforeAll(async () => {
  mock = await startGoogleMock({ serviceAccountPublicKeyPem: publicKey });
});
afterAll(async () => {
  await mock.close();
});

function serviceAccount(email: string): string {
  return JSON.stringify({ type: 'service_account', private_key_id: 'kid-7', private_key: privateKey, client_email: email, token_uri: mock.tokenUrl });
}

async function send(upstream: UpstreamRequest): Promise<UpstreamResponse> {
  const reply = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  return { status: reply.statusCode, headers: reply.headers as Record<string, string>, body: new Uint8Array(await reply.body.arrayBuffer()) };
}

function vertexKey(overrides: Partial<NonNullable<ResolvedKey['vertex']>> = {}, email = 'vertex@tollgate-test.iam.gserviceaccount.com'): ResolvedKey {
  return {
    id: 'k1',
    name: 'vertex-main',
    provider: 'vertex',
    value: '',
    vertex: {
      projectId: 'tollgate-test',
      region: 'us-central1',
      authCredentials: serviceAccount(email),
      deployments: { 'fast-model': 'gemini-2.5-flash-lite', 'claude-sonnet': 'claude-sonnet-4-5@20250929' },
      ...overrides,
    },
  };
}

/** `baseUrl: null` leaves the provider without a base URL, so the adapter picks Google's host. */
function context(overrides: Partial<ProviderContext> = {}, baseUrl: string | null = mock.baseUrl): ProviderContext {
  return {
    provider: { name: 'vertex', adapterType: 'vertex', network: { baseUrl: baseUrl ?? undefined, extraHeaders: {}, timeoutMs: 10_000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 } },
    key: vertexKey(),
    model: 'gemini-2.5-flash',
    requestId: 'req-9',
    send,
    now: () => 1_700_000_000_000,
    ...overrides,
  };
}

async function stream(adapter: ReturnType<typeof createVertexAdapter>, chat: ChatCompletionRequest, ctx: ProviderContext): Promise<StreamEvent[]> {
  const upstream = await adapter.chat.buildRequest(chat, ctx, { stream: true });
  const reply = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  expect(reply.statusCode).toBe(200);
  const decoder = adapter.chat.createStreamDecoder(ctx);
  const events: StreamEvent[] = [];
  for await (const piece of reply.body) events.push(...decoder.push(new Uint8Array(piece as Buffer)));
  events.push(...decoder.finish());
  return events;
}

function contentOf(events: StreamEvent[]): string {
  return events.map((event) => (event.kind === 'chunk' ? event.chunk.choices[0]?.delta.content ?? '' : '')).join('');
}

const hello: ChatCompletionRequest = { model: 'x', messages: [{ role: 'user', content: 'Hello Vertex' }] };

describe('Vertex adapter against the mock', () => {
  it('describes itself', () => {
    const adapter = createVertexAdapter({});
    expect(adapter).toMatchObject({ type: 'vertex', credentialStyle: 'value-or-config' });
  });

  it('addresses the regional host, the global host, or the base URL', async () => {
    const adapter = createVertexAdapter({});
    const regional = await adapter.chat.buildRequest(hello, context({}, null), { stream: false });
    expect(regional.url).toBe('https://us-central1-aiplatform.googleapis.com/v1/projects/tollgate-test/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
    const global = await adapter.chat.buildRequest(hello, context({ key: vertexKey({ region: 'global' }) }, null), { stream: true });
    expect(global.url).toBe('https://aiplatform.googleapis.com/v1/projects/tollgate-test/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const claude = await adapter.chat.buildRequest(hello, context({ model: 'claude-sonnet' }, null), { stream: false });
    expect(claude.url).toBe('https://us-central1-aiplatform.googleapis.com/v1/projects/tollgate-test/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict');
  });

  it('completes a Gemini chat with a bearer token, applying the deployment mapping', async () => {
    const adapter = createVertexAdapter({});
    const ctx = context({ model: 'fast-model' });
    const upstream = await adapter.chat.buildRequest(hello, ctx, { stream: false });
    expect(upstream.url).toBe(`${mock.baseUrl}/v1/projects/tollgate-test/locations/us-central1/publishers/google/models/gemini-2.5-flash-lite:generateContent`);
    expect(upstream.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
    const reply = await send(upstream);
    expect(reply.status).toBe(200);
    const { completion, usage } = await adapter.chat.parseResponse(reply, ctx);
    expect(completion.choices[0]?.message.content).toBe('You said: Hello Vertex');
    expect(completion.model).toBe('fast-model');
    expect(usage?.outputTokens).toBe(4);
  });

  it('streams a Gemini chat', async () => {
    const adapter = createVertexAdapter({});
    const events = await stream(adapter, { model: 'x', messages: [{ role: 'user', content: 'stream me please' }] }, context());
    expect(contentOf(events)).toBe('You said: stream me please');
    expect(events.at(-2)).toMatchObject({ kind: 'chunk', chunk: { choices: [{ finish_reason: 'stop' }] } });
    expect(events.at(-1)).toMatchObject({ kind: 'chunk', chunk: { choices: [], usage: { prompt_tokens: expect.any(Number) } } });
  });

  it('sends tools Vertex accepts and returns the call', async () => {
    const adapter = createVertexAdapter({});
    const chat: ChatCompletionRequest = {
      model: 'x',
      messages: [{ role: 'system', content: 'Use tools.' }, { role: 'user', content: 'Find it' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } } }],
      tool_choice: 'required',
    };
    const reply = await send(await adapter.chat.buildRequest(chat, context(), { stream: false }));
    expect(reply.status).toBe(200);
    const { completion } = await adapter.chat.parseResponse(reply, context());
    expect(completion.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: 'lookup', arguments: '{"id":"Paris"}' });
  });

  it('fetches the token once for 20 concurrent requests and again after expiry', async () => {
    const adapter = createVertexAdapter({});
    let now = 1_800_000_000_000;
    const ctx = context({ key: vertexKey({}, 'burst@tollgate-test.iam.gserviceaccount.com'), now: () => now });
    const before = mock.tokenRequests;
    const upstreams = await Promise.all(Array.from({ length: 20 }, () => adapter.chat.buildRequest(hello, ctx, { stream: false })));
    expect(mock.tokenRequests - before).toBe(1);
    const replies = await Promise.all(upstreams.map(send));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);

    now += 30 * 60_000;
    await adapter.chat.buildRequest(hello, ctx, { stream: false });
    expect(mock.tokenRequests - before).toBe(1);

    now += 30 * 60_000;
    const renewed = await adapter.chat.buildRequest(hello, ctx, { stream: false });
    expect(mock.tokenRequests - before).toBe(2);
    expect(renewed.headers.authorization).not.toBe(upstreams[0]?.headers.authorization);
    expect((await send(renewed)).status).toBe(200);
  });

  it('speaks the Anthropic Messages body to Claude through rawPredict', async () => {
    const adapter = createVertexAdapter({});
    const ctx = context({ model: 'claude-sonnet' });
    const upstream = await adapter.chat.buildRequest({ model: 'x', messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi Claude' }] }, ctx, { stream: false });
    const body = JSON.parse(upstream.body as string) as Record<string, unknown>;
    expect(body).not.toHaveProperty('model');
    expect(body).not.toHaveProperty('stream');
    expect(body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', system: 'Be kind.', max_tokens: expect.any(Number) });
    const reply = await send(upstream);
    expect(reply.status).toBe(200);
    const { completion, usage } = await adapter.chat.parseResponse(reply, ctx);
    expect(completion.choices[0]?.message.content).toBe('Claude heard: Hi Claude');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(usage?.outputTokens).toBe(5);
  });

  it('streams Claude through streamRawPredict', async () => {
    const adapter = createVertexAdapter({});
    const ctx = context({ model: 'claude-sonnet' });
    const events = await stream(adapter, { model: 'x', messages: [{ role: 'user', content: 'stream it' }] }, ctx);
    expect(mock.requests.at(-1)?.path).toMatch(/publishers\/anthropic\/models\/claude-sonnet-4-5@20250929:streamRawPredict$/);
    expect((mock.requests.at(-1)?.body as Record<string, unknown>).stream).toBe(true);
    expect(events.some((event) => event.kind === 'error')).toBe(false);
    expect(contentOf(events)).toBe('Claude heard: stream it');
  });

  it('maps Claude errors in Anthropic shape and transport errors in Google shape', async () => {
    const adapter = createVertexAdapter({});
    const ctx = context({ model: 'claude-sonnet' });
    mock.enqueue({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const overloaded = await send(await adapter.chat.buildRequest(hello, ctx, { stream: false }));
    expect(adapter.parseError(overloaded, ctx)).toMatchObject({ status: 503, type: 'service_unavailable_error', message: 'Overloaded' });
    mock.enqueue({ status: 429, body: { error: { code: 429, message: 'Quota exceeded for aiplatform.googleapis.com', status: 'RESOURCE_EXHAUSTED' } } });
    const quota = await send(await adapter.chat.buildRequest(hello, ctx, { stream: false }));
    expect(adapter.parseError(quota, ctx)).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'Quota exceeded for aiplatform.googleapis.com' });
  });

  it('embeds with predict, one instance per call for gemini-embedding', async () => {
    const adapter = createVertexAdapter({});
    const ctx = context({ model: 'gemini-embedding-001' });
    const request = { model: 'x', input: ['alpha beta', 'gamma'], dimensions: 2 };
    const upstreams = await adapter.embeddings!.buildRequests(request, ctx);
    expect(upstreams).toHaveLength(2);
    const replies = await Promise.all(upstreams.map(send));
    expect(replies.map((reply) => reply.status)).toEqual([200, 200]);
    const { result, usage } = adapter.embeddings!.parseResponses(replies, request, ctx);
    expect(result.data.map((entry) => entry.embedding)).toEqual([
      [10, 0],
      [5, 0],
    ]);
    expect(usage).toEqual({ inputTokens: 3, outputTokens: 0, cachedInputTokens: 0 });
  });

  it('refuses a broken credential clearly, without the private key', async () => {
    const adapter = createVertexAdapter({});
    const broken = serviceAccount('broken@tollgate-test.iam.gserviceaccount.com').replace('"client_email"', '"client_email_typo"');
    const ctx = context({ key: vertexKey({ authCredentials: broken.slice(0, 200) }) });
    const failure = await adapter.chat.buildRequest(hello, ctx, { stream: false }).catch((error: unknown) => error);
    expect(isGatewayError(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/vertex-main.*not valid JSON/);
    expect((failure as Error).message).not.toMatch(/PRIVATE KEY|MII/);
    const missing = await adapter.chat.buildRequest(hello, context({ key: vertexKey({ authCredentials: broken }) }), { stream: false }).catch((error: unknown) => error);
    expect((missing as Error).message).toMatch(/client_email missing/);
  });

  it('rejects a request whose token the mock did not issue', async () => {
    const adapter = createVertexAdapter({});
    const upstream = await adapter.chat.buildRequest(hello, context(), { stream: false });
    const reply = await send({ ...upstream, headers: { ...upstream.headers, authorization: 'Bearer forged' } });
    expect(reply.status).toBe(401);
    expect(adapter.parseError(reply, context())).toMatchObject({ status: 401, type: 'authentication_error' });
  });
});
