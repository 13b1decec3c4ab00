import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { startCohereMock, type CohereMock } from '../../../test/mocks/cohere-mock.js';
import { createCohereAdapter } from './index.js';

const adapter = createCohereAdapter({});
let mock: CohereMock;

beforeEach(async () => {
  mock = await startCohereMock();
});
afterEach(async () => {
  await mock.close();
});

async function send(upstream: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
  const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body, signal });
  return { status: response.statusCode, headers: flatten(response.headers), body: new Uint8Array(await response.body.arrayBuffer()) };
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
}

function contextFor(key = 'test-cohere-key', model = 'command-a-03-2025'): ProviderContext {
  return {
    provider: {
      name: 'cohere',
      adapterType: 'cohere',
      network: { baseUrl: mock.baseUrl, extraHeaders: { 'x-team': 'search' }, timeoutMs: 30_000, maxRetries: 0, retryBackoffInitialMs: 0, retryBackoffMaxMs: 0 },
    },
    key: { id: 'key-1', name: 'main', provider: 'cohere', value: key },
    model,
    requestId: 'req-1',
    send,
    now: () => 1_700_000_000_000,
  };
}

async function chat(body: Partial<ChatCompletionRequest>, context = contextFor()) {
  const full: ChatCompletionRequest = { model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'hi' }], ...body };
  const upstream = await adapter.chat.buildRequest(full, context, { stream: false });
  const response = await send(upstream);
  return { response, context };
}

async function stream(body: Partial<ChatCompletionRequest>, context = contextFor()) {
  const full: ChatCompletionRequest = { model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'hi' }], stream: true, ...body };
  const upstream = await adapter.chat.buildRequest(full, context, { stream: true });
  const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  expect(response.statusCode).toBe(200);
  const decoder = adapter.chat.createStreamDecoder(context);
  const events: StreamEvent[] = [];
  let broken = false;
  try {
    for await (const part of response.body) events.push(...decoder.push(part as Uint8Array));
  } catch {
    // A connection the upstream cut ends the body like an end of stream; the decoder judges what it got.
    broken = true;
  }
  events.push(...decoder.finish());
  return { events, decoder, broken };
}

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

describe('Cohere adapter against the mock', () => {
  it('sends an authenticated /v2/chat request and translates the reply', async () => {
    const { response, context } = await chat({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }], top_p: 1 });
    expect(response.status).toBe(200);
    const recorded = mock.requests[0]!;
    expect(recorded.path).toBe('/v2/chat');
    expect(recorded.headers.authorization).toBe('Bearer test-cohere-key');
    expect(recorded.headers['x-team']).toBe('search');
    expect(recorded.body).toMatchObject({ model: 'command-a-03-2025', p: 0.99, messages: [{ role: 'system' }, { role: 'user', content: 'hello there' }] });

    const { completion, usage } = await adapter.chat.parseResponse(response, context);
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'You said: hello there' } });
    // The mock counts one output token per word: You / said: / hello / there.
    expect(usage?.outputTokens).toBe(4);
    expect(completion.usage?.prompt_tokens).toBe(usage?.inputTokens);
  });

  it('round-trips a tool call and its result', async () => {
    const first = await chat({ messages: [{ role: 'user', content: 'weather in Toronto?' }], tools: [weatherTool] });
    const { completion } = await adapter.chat.parseResponse(first.response, first.context);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"location":"Toronto"}' });

    const second = await chat({
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'weather in Toronto?' },
        { role: 'assistant', content: choice.message.content, tool_calls: choice.message.tool_calls },
        { role: 'tool', tool_call_id: call.id, content: '21C and sunny' },
      ],
    });
    expect(second.response.status).toBe(200);
    expect(mock.requests[1]!.body).toMatchObject({ messages: [{}, { role: 'assistant', tool_plan: 'I will use get_weather.' }, { role: 'tool', tool_call_id: call.id }] });
    const answer = await adapter.chat.parseResponse(second.response, second.context);
    expect(answer.completion.choices[0]!.message.content).toBe('The tool said: 21C and sunny');
  });

  it('narrows the tools to a named tool_choice and requires a call', async () => {
    const other = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    await chat({ tools: [other, weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(mock.requests[0]!.body).toMatchObject({ tool_choice: 'REQUIRED', tools: [{ function: { name: 'get_weather' } }] });
    expect((mock.requests[0]!.body as { tools: unknown[] }).tools).toHaveLength(1);
  });

  it('streams text as OpenAI chunks and reports usage', async () => {
    const { events, decoder } = await stream({ messages: [{ role: 'user', content: 'tell me something' }] });
    expect(mock.requests[0]!.body).toMatchObject({ stream: true });
    expect(mock.requests[0]!.headers.accept).toBe('text/event-stream');
    const chunks = events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(events).toHaveLength(chunks.length);
    const usageChunk = chunks.pop()!;
    expect(usageChunk).toMatchObject({ choices: [], usage: { completion_tokens: 5 } });
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join('')).toBe('You said: tell me something');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(decoder.usage()).toMatchObject({ outputTokens: 5 });
  });

  it('streams tool calls whose argument fragments join into the full JSON', async () => {
    const { events } = await stream({ tools: [weatherTool], tool_choice: 'required' });
    const deltas = events.flatMap((event) => (event.kind === 'chunk' ? event.chunk.choices[0]?.delta.tool_calls ?? [] : []));
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.map((delta) => delta.function?.arguments ?? '').join('')).toBe('{"location":"Toronto"}');
    const finish = events.at(-2)!;
    expect(finish.kind === 'chunk' && finish.chunk.choices[0]!.finish_reason).toBe('tool_calls');
    const last = events.at(-1)!;
    expect(last.kind === 'chunk' && last.chunk.choices).toEqual([]);
  });

  it('reports a stream the upstream cut short as an error event', async () => {
    mock.enqueue({
      streamEvents: [
        { event: 'message-start', data: { id: 'm1', type: 'message-start', delta: { message: { role: 'assistant' } } } },
        { event: 'content-delta', data: { type: 'content-delta', index: 0, delta: { message: { content: { text: 'par' } } } } },
        { event: 'message-end', data: { type: 'message-end', delta: { finish_reason: 'COMPLETE' } } },
      ],
      failAfter: 2,
    });
    const { events, broken } = await stream({});
    expect(broken).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'error', error: { status: 502, code: 'upstream_stream_incomplete' } });
  });

  it('maps a wrong key to a 401 and an upstream 429 with retry-after', async () => {
    const rejected = await chat({}, contextFor('wrong-key'));
    expect(rejected.response.status).toBe(401);
    expect(adapter.parseError(rejected.response, rejected.context)).toEqual({
      status: 401,
      type: 'authentication_error',
      code: 'invalid_api_key',
      message: 'invalid api token',
    });

    mock.enqueue({ status: 429, body: { message: 'You are using a Trial key, which is limited to 10 API calls / minute.' }, headers: { 'retry-after': '6' } });
    const limited = await chat({});
    expect(adapter.parseError(limited.response, limited.context)).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 6000 });
  });

  it('relays Cohere validation messages as 400s', async () => {
    const { response, context } = await chat({ messages: [] });
    expect(response.status).toBe(400);
    expect(adapter.parseError(response, context)).toMatchObject({ status: 400, type: 'invalid_request_error', message: 'invalid request: messages must be a non-empty array' });
  });

  it('embeds more than 96 texts through several calls, in order', async () => {
    const context = contextFor('test-cohere-key', 'embed-v4.0');
    const input = Array.from({ length: 100 }, (_, index) => 'word '.repeat(index % 3 + 1).trim());
    const embeddingRequest = { model: 'cohere/embed-v4.0', input };
    const upstreams = await adapter.embeddings!.buildRequests(embeddingRequest, context);
    expect(upstreams.map((upstream) => upstream.url)).toEqual([`${mock.baseUrl}/v2/embed`, `${mock.baseUrl}/v2/embed`]);
    const responses = await Promise.all(upstreams.map((upstream) => send(upstream)));
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(mock.requests.map((recorded) => (recorded.body as { input_type: string }).input_type)).toEqual(['search_document', 'search_document']);

    const { result, usage } = adapter.embeddings!.parseResponses(responses, embeddingRequest, context);
    expect(result.data).toHaveLength(100);
    // The mock encodes [text length, index within its batch, 0.5]; index 97 is the second text of batch two.
    expect(result.data[97]).toEqual({ object: 'embedding', index: 97, embedding: [input[97]!.length, 1, 0.5] });
    expect(usage?.inputTokens).toBe(input.reduce((sum, text) => sum + text.split(' ').length, 0));
  });

  it('lets the caller abort a request the upstream never answers', async () => {
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const upstream = await adapter.chat.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, contextFor(), { stream: false });
    const pending = send(upstream, controller.signal);
    await mock.whenRequested(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await mock.whenAborted();
  });
});
