import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError, type GatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderAdapter, ProviderContext, ResolvedKey, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { startReplicateMock, type ReplicateMock } from '../../../test/mocks/replicate-mock.js';
import { replicateContext } from '../../../test/support/replicate-context.js';
import { createReplicateAdapterWith } from './index.js';

let mock: ReplicateMock | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function start(processingPolls = 0): Promise<ReplicateMock> {
  mock = await startReplicateMock({ processingPolls });
  return mock;
}

async function send(upstream: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
  const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body, signal });
  const headers = Object.fromEntries(Object.entries(response.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
  return { status: response.statusCode, headers, body: new Uint8Array(await response.body.arrayBuffer()) };
}

function contextFor(server: ReplicateMock, overrides: { model?: string; key?: Partial<ResolvedKey>; now?: () => number; timeoutMs?: number } = {}): ProviderContext {
  return replicateContext(send, { baseUrl: server.baseUrl, ...overrides, key: { value: 'test-replicate-key', ...overrides.key } });
}

/** An adapter whose polls happen at once, recording the attempts it was asked to wait before. */
function instantAdapter(maxPolls = 50): { adapter: ProviderAdapter; waits: number[] } {
  const waits: number[] = [];
  const adapter = createReplicateAdapterWith({ polling: { maxPolls, waitBeforePoll: async (attempt) => void waits.push(attempt) } });
  return { adapter, waits };
}

function chatRequest(content: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return { model: 'replicate/meta/meta-llama-3-8b-instruct', messages: [{ role: 'user', content }], ...extra };
}

async function complete(adapter: ProviderAdapter, context: ProviderContext, body: ChatCompletionRequest) {
  const upstream = await adapter.chat.buildRequest(body, context, { stream: false });
  const response = await send(upstream);
  expect(response.status).toBe(201);
  return adapter.chat.parseResponse(response, context);
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (isGatewayError(error)) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('Replicate adapter against the mock', () => {
  it('creates an official-model prediction in sync mode and translates the finished prediction', async () => {
    const server = await start();
    const { adapter, waits } = instantAdapter();
    const { completion, usage } = await complete(adapter, contextFor(server), chatRequest('hello there', { max_tokens: 100, messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'hello there' }] }));

    expect(server.requests).toHaveLength(1);
    const created = server.requests[0]!;
    expect(created.path).toBe('/v1/models/meta/meta-llama-3-8b-instruct/predictions');
    expect(created.headers.authorization).toBe('Bearer test-replicate-key');
    expect(created.headers.prefer).toBe('wait=29');
    // Replicate's own deadline, past the one Tollgate keeps (twice the 30 s timeout, and a minute).
    expect(created.headers['cancel-after']).toBe('120s');
    expect(server.deadlines.get(completion.id.replace('chatcmpl-', ''))).toBe('120s');
    expect(created.body).toEqual({ input: { prompt: 'hello there', system_prompt: 'Be kind.', max_tokens: 100, max_new_tokens: 100 } });

    expect(waits).toEqual([]);
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'Echo: hello there' } });
    expect(usage).toEqual({ inputTokens: 4, outputTokens: 3, cachedInputTokens: 0 });
  });

  it('polls urls.get until a prediction that was still processing succeeds', async () => {
    const server = await start(3);
    const { adapter, waits } = instantAdapter();
    const { completion } = await complete(adapter, contextFor(server), chatRequest('slow answer'));
    const polls = server.requests.slice(1);
    expect(polls.map((recorded) => `${recorded.method} ${recorded.path}`)).toEqual(Array(4).fill(`GET /v1/predictions/${polls[0]!.path.split('/').at(-1)}`));
    expect(polls.every((recorded) => recorded.headers.authorization === 'Bearer test-replicate-key')).toBe(true);
    expect(waits).toEqual([0, 1, 2, 3]);
    expect(completion.choices[0]!.message.content).toBe('Echo: slow answer');
  });

  it('gives up after maxPolls with a 504 and cancels the prediction', async () => {
    const server = await start(10);
    const { adapter } = instantAdapter(2);
    const error = await failure(complete(adapter, contextFor(server), chatRequest('never mind')));
    expect(error).toMatchObject({ status: 504, type: 'timeout_error', upstream: true });
    const last = server.requests.at(-1)!;
    expect(last.method).toBe('POST');
    expect(last.path).toMatch(/^\/v1\/predictions\/[^/]+\/cancel$/);
    expect(server.requests.filter((recorded) => recorded.method === 'GET')).toHaveLength(2);
  });

  it('gives up once the provider timeout has passed on the injected clock', async () => {
    const server = await start(10);
    const { adapter } = instantAdapter();
    let clock = 0;
    // Each reading of the clock is 4 s later: started at 4 s, polls at 8 s and 12 s, gives up at 16 s.
    const error = await failure(complete(adapter, contextFor(server, { timeoutMs: 10_000, now: () => (clock += 4_000) }), chatRequest('hi')));
    expect(error.status).toBe(504);
    expect(server.requests.filter((recorded) => recorded.method === 'GET')).toHaveLength(2);
  });

  it('turns a prediction that failed while polling into a 502', async () => {
    const server = await start(1);
    const { adapter } = instantAdapter();
    const upstream = await adapter.chat.buildRequest(chatRequest('boom'), contextFor(server), { stream: false });
    const response = await send(upstream);
    const created = JSON.parse(new TextDecoder().decode(response.body)) as { id: string };
    server.enqueue({ status: 200, body: { id: created.id, status: 'failed', error: 'CUDA out of memory', output: null, urls: {} } });
    const error = await failure(Promise.resolve(adapter.chat.parseResponse(response, contextFor(server))));
    expect(error).toMatchObject({ status: 502, code: 'prediction_failed', upstream: true });
    expect(error.message).toContain('CUDA out of memory');
  });

  it('relays a poll that fails at HTTP level as an upstream error', async () => {
    const server = await start(1);
    const { adapter } = instantAdapter();
    const upstream = await adapter.chat.buildRequest(chatRequest('x'), contextFor(server), { stream: false });
    const response = await send(upstream);
    server.enqueue({ status: 500, body: { title: 'Internal server error', status: 500 } });
    const error = await failure(Promise.resolve(adapter.chat.parseResponse(response, contextFor(server))));
    expect(error).toMatchObject({ status: 502, type: 'server_error', upstream: true, retryable: true, message: 'Internal server error' });
  });

  it('creates predictions on a deployment the key maps the model to, and on a pinned version', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const deployed = contextFor(server, { key: { replicate: { deployments: { 'meta/meta-llama-3-8b-instruct': 'acme/llama-prod' } } } });
    const { completion } = await complete(adapter, deployed, chatRequest('via deployment'));
    expect(server.requests[0]!.path).toBe('/v1/deployments/acme/llama-prod/predictions');
    expect(completion.choices[0]!.message.content).toBe('Echo: via deployment');

    const version = '5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa';
    await complete(adapter, contextFor(server, { model: `replicate/hello-world:${version}` }), chatRequest('pinned'));
    expect(server.requests[1]!.path).toBe('/v1/predictions');
    expect(server.requests[1]!.body).toMatchObject({ version, input: { prompt: 'pinned' } });
  });

  it('streams: creates the prediction itself, then reads urls.stream into chunks', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const context = contextFor(server);
    const upstream = await adapter.chat.buildRequest(chatRequest('tell me a story', { stream: true }), context, { stream: true });
    expect(server.requests[0]!.body).toMatchObject({ stream: true, input: { prompt: 'tell me a story' } });
    expect(server.requests[0]!.headers.prefer).toBeUndefined();
    expect(server.requests[0]!.headers['cancel-after']).toBeUndefined();
    expect(upstream).toMatchObject({ method: 'GET', headers: { accept: 'text/event-stream', authorization: 'Bearer test-replicate-key' } });
    expect(upstream.url).toMatch(new RegExp(`^${server.baseUrl}/v1/streams/`));

    const events = await readStream(adapter, context, upstream);
    const chunks = events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(chunks).toHaveLength(events.length);
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join('')).toBe('Echo: tell me a story');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('streams: reads the token counts of the prediction it created once the stream is done', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const context = contextFor(server);
    const upstream = await adapter.chat.buildRequest(chatRequest('tell me a story', { stream: true }), context, { stream: true });
    const decoder = adapter.chat.createStreamDecoder(context);
    const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers });
    for await (const part of response.body) decoder.push(part as Uint8Array);
    decoder.finish();
    expect(decoder.usage()).toBeUndefined();

    const events = await decoder.complete!();

    const created = server.requests[0]!;
    const read = server.requests.at(-1)!;
    expect(server.requests).toHaveLength(3);
    expect(read).toMatchObject({ method: 'GET', path: upstream.url.replace(`${server.baseUrl}/v1/streams/`, '/v1/predictions/') });
    expect(read.headers.authorization).toBe('Bearer test-replicate-key');
    expect(created.method).toBe('POST');
    // "tell me a story" is four words; the reply's fragments are "Echo:", " tell", " me", " a", " story".
    expect(decoder.usage()).toEqual({ inputTokens: 4, outputTokens: 5, cachedInputTokens: 0 });
    expect(events).toMatchObject([{ kind: 'chunk', chunk: { choices: [], usage: { prompt_tokens: 4, completion_tokens: 5 } } }]);
  });

  it('streams: a decoder for a context that created no prediction reads nothing', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const decoder = adapter.chat.createStreamDecoder(contextFor(server));
    decoder.push(new TextEncoder().encode('event: done\ndata: {}\n\n'));
    decoder.finish();
    expect(await decoder.complete!()).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('ends a stream whose prediction errors with an error event', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const context = contextFor(server);
    const upstream = await adapter.chat.buildRequest(chatRequest('x', { stream: true }), context, { stream: true });
    server.enqueue({ streamEvents: [{ event: 'output', data: 'Once' }, { event: 'error', data: { detail: 'Prediction interrupted' } }, { event: 'done', data: { reason: 'error' } }] });
    const events = await readStream(adapter, context, upstream);
    expect(events.at(-1)).toEqual({ kind: 'error', error: { status: 502, type: 'server_error', code: 'prediction_failed', message: 'Replicate prediction failed: Prediction interrupted' } });
  });

  it('throws the mapped upstream error when the streamed prediction cannot be created', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const error = await failure(adapter.chat.buildRequest(chatRequest('x'), contextFor(server, { key: { value: 'wrong' } }), { stream: true }));
    expect(error).toMatchObject({ status: 401, type: 'authentication_error', upstream: true, message: 'You did not pass a valid authentication token' });
  });

  it('refuses to stream a model without a stream URL and cancels the prediction it created', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    server.enqueue({ status: 201, body: { id: 'p1', status: 'starting', urls: { get: `${server.baseUrl}/v1/predictions/p1`, cancel: `${server.baseUrl}/v1/predictions/p1/cancel` } } });
    const error = await failure(adapter.chat.buildRequest(chatRequest('x'), contextFor(server), { stream: true }));
    expect(error).toMatchObject({ status: 400, code: 'streaming_not_supported' });
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/predictions/p1/cancel' });
  });

  it('maps problem-details errors from creation, with retry-after', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const context = contextFor(server);
    server.enqueue({ status: 429, body: { title: 'Request was throttled', detail: 'Request was throttled. Expected available in 5 seconds.', status: 429 }, headers: { 'retry-after': '5' } });
    const throttled = await send(await adapter.chat.buildRequest(chatRequest('x'), context, { stream: false }));
    expect(adapter.parseError(throttled, context)).toEqual({
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      message: 'Request was throttled. Expected available in 5 seconds.',
      retryAfterMs: 5000,
    });

    const missing = await send(await adapter.chat.buildRequest(chatRequest('x'), contextFor(server, { key: { value: 'nope' } }), { stream: false }));
    expect(adapter.parseError(missing, context)).toMatchObject({ status: 401, type: 'authentication_error' });
  });
});

describe('Replicate adapter aborts', () => {
  it('cancels the prediction when the caller aborts while polling', async () => {
    const server = await start(5);
    const controller = new AbortController();
    const adapter = createReplicateAdapterWith({
      polling: {
        waitBeforePoll: async (attempt) => {
          if (attempt === 1) controller.abort();
        },
      },
    });
    // As the core's send does, the context's requests are cancelled with the caller's signal unless given another.
    const boundSend: typeof send = (request, callSignal) => send(request, callSignal ?? controller.signal);
    const context = { ...contextFor(server), send: boundSend, signal: controller.signal };
    const response = await send(await adapter.chat.buildRequest(chatRequest('x'), context, { stream: false }));
    await expect(Promise.resolve(adapter.chat.parseResponse(response, context))).rejects.toThrow();
    await server.whenRequested(3);
    expect(server.requests.map((recorded) => recorded.method)).toEqual(['POST', 'GET', 'POST']);
    expect(server.requests[2]!.path).toMatch(/\/cancel$/);
  });
});

describe('Replicate mock behaviours', () => {
  it('refuses a Cancel-After outside Replicate\'s documented format', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    const upstream = await adapter.chat.buildRequest(chatRequest('x'), contextFor(server), { stream: false });
    for (const value of ['4s', '1 m', 'soon', '']) {
      const refused = await send({ ...upstream, headers: { ...upstream.headers, 'cancel-after': value } });
      expect(refused.status).toBe(400);
    }
    for (const value of ['5', '90s', '1h30m45s']) {
      expect((await send({ ...upstream, headers: { ...upstream.headers, 'cancel-after': value } })).status).toBe(201);
    }
  });

  it('lets the caller abort a create call the upstream never answers', async () => {
    const server = await start();
    const { adapter } = instantAdapter();
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = send(await adapter.chat.buildRequest(chatRequest('x'), contextFor(server), { stream: false }), controller.signal);
    await server.whenRequested(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await server.whenAborted();
  });
});

async function readStream(adapter: ProviderAdapter, context: ProviderContext, upstream: UpstreamRequest): Promise<StreamEvent[]> {
  const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers });
  expect(response.statusCode).toBe(200);
  const decoder = adapter.chat.createStreamDecoder(context);
  const events: StreamEvent[] = [];
  for await (const part of response.body) events.push(...decoder.push(part as Uint8Array));
  events.push(...decoder.finish());
  return events;
}
