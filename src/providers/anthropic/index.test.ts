import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../../../test/mocks/anthropic-mock.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { createAnthropicAdapter } from './index.js';

const KEY = 'sk-ant-api03-test-key-0001';
const adapter = createAnthropicAdapter({});
let mock: AnthropicMock;

beforeAll(async () => {
  mock = await startAnthropicMock({ apiKeys: [KEY] });
});
afterAll(async () => {
  await mock.close();
});

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : value;
  return result;
}

async function send(upstream: UpstreamRequest): Promise<UpstreamResponse> {
  const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  return { status: response.statusCode, headers: flatten(response.headers), body: new Uint8Array(await response.body.arrayBuffer()) };
}

function contextFor(overrides: { key?: string; extraHeaders?: Record<string, string>; baseUrl?: string } = {}): ProviderContext {
  return {
    provider: {
      name: 'anthropic',
      adapterType: 'anthropic',
      network: {
        baseUrl: overrides.baseUrl ?? mock.baseUrl,
        extraHeaders: overrides.extraHeaders ?? {},
        timeoutMs: 30_000,
        maxRetries: 0,
        retryBackoffInitialMs: 0,
        retryBackoffMaxMs: 0,
      },
    },
    key: { id: 'key-1', name: 'main', provider: 'anthropic', value: overrides.key ?? KEY },
    model: 'claude-sonnet-4-5',
    requestId: 'req-test',
    send,
    now: () => 1_700_000_000_000,
  };
}

function chatRequest(extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello there' }], ...extra };
}

async function complete(chat: ChatCompletionRequest, context = contextFor()) {
  const upstream = await adapter.chat.buildRequest(chat, context, { stream: false });
  const response = await send(upstream);
  if (response.status !== 200) return { error: adapter.parseError(response, context), response };
  return { result: await adapter.chat.parseResponse(response, context), response };
}

/** Streams through the decoder as the core would, chunk by chunk as undici delivers them. */
async function stream(chat: ChatCompletionRequest, context = contextFor()) {
  const upstream = await adapter.chat.buildRequest(chat, context, { stream: true });
  const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  expect(response.statusCode).toBe(200);
  const decoder = adapter.chat.createStreamDecoder(context);
  const events: StreamEvent[] = [];
  for await (const part of response.body) events.push(...decoder.push(part as Uint8Array));
  events.push(...decoder.finish());
  const chunks = events.flatMap((event): ChatCompletionChunk[] => (event.kind === 'chunk' ? [event.chunk] : []));
  return { events, chunks, usage: decoder.usage(), upstream };
}

describe('Anthropic adapter against the mock', () => {
  it('builds the documented request: path, headers and a translated body', async () => {
    const upstream = await adapter.chat.buildRequest(
      chatRequest(),
      contextFor({ baseUrl: 'https://proxy.example/anthropic/', extraHeaders: { 'Anthropic-Beta': 'context-1m', 'X-Api-Key': 'stolen' } }),
      { stream: false },
    );
    expect(upstream.method).toBe('POST');
    expect(upstream.url).toBe('https://proxy.example/anthropic/v1/messages');
    expect(upstream.headers).toEqual({
      'anthropic-beta': 'context-1m',
      'content-type': 'application/json',
      accept: 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': KEY,
    });
    expect(JSON.parse(String(upstream.body))).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Hello there' }],
      max_tokens: 64_000,
    });
    const defaultUrl = await adapter.chat.buildRequest(chatRequest(), { ...contextFor(), provider: { ...contextFor().provider, network: { ...contextFor().provider.network, baseUrl: undefined } } }, { stream: true });
    expect(defaultUrl.url).toBe('https://api.anthropic.com/v1/messages');
    expect(JSON.parse(String(defaultUrl.body)).stream).toBe(true);
  });

  it('completes a conversation with system, tool results and repeated roles, accepted by the mock', async () => {
    const { result, response } = await complete(
      chatRequest({
        temperature: 0.5,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'What is the weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_a', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'toolu_a', content: 'Sunny' },
          { role: 'user', content: 'Summarise' },
          { role: 'user', content: 'in one word' },
        ],
      }),
    );
    expect(response.status).toBe(200);
    const completion = result!.completion;
    expect(completion.id).toMatch(/^msg_mock/);
    expect(completion.created).toBe(1_700_000_000);
    expect(completion.choices[0]!.message.content).toBe('SunnySummarisein one word');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(result!.usage).toMatchObject({ outputTokens: 7, cachedInputTokens: 0 });
  });

  it('streams text with the real event sequence into OpenAI chunks and usage', async () => {
    const { events, chunks, usage } = await stream(chatRequest({ messages: [{ role: 'user', content: 'one two three' }] }));
    expect(events.some((event) => event.kind === 'error')).toBe(false);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('one two three');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 4 });
    expect(usage).toEqual({ inputTokens: 4, outputTokens: 4, cachedInputTokens: 0, cacheWriteTokens: 0 });
  });

  it('calls tools, streamed and not', async () => {
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    const plain = await complete(chatRequest({ tools, tool_choice: 'required' }));
    const call = plain.result!.completion.choices[0]!.message.tool_calls![0]!;
    expect(call.function).toEqual({ name: 'lookup', arguments: '{"input":"Hello there"}' });
    expect(plain.result!.completion.choices[0]!.finish_reason).toBe('tool_calls');

    const streamed = await stream(chatRequest({ tools, tool_choice: { type: 'function', function: { name: 'lookup' } } }));
    const deltas = streamed.chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'lookup', arguments: '' } });
    expect(JSON.parse(deltas.map((delta) => delta.function?.arguments ?? '').join(''))).toEqual({ input: 'Hello there' });
    const sent = mock.requests.at(-1)!.body as Record<string, unknown>;
    expect(sent.tool_choice).toEqual({ type: 'tool', name: 'lookup' });
  });

  it('reports cache writes, then cache reads, for a cached system prompt', async () => {
    const messages: ChatCompletionRequest['messages'] = [
      { role: 'system', content: [{ type: 'text', text: 'A long manual that is worth caching.', cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: 'Question?' },
    ];
    const first = await complete(chatRequest({ messages }));
    const second = await stream(chatRequest({ messages }));
    expect(first.result!.usage).toEqual({ inputTokens: 12, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 9 });
    expect(second.usage).toEqual({ inputTokens: 12, outputTokens: 3, cachedInputTokens: 9, cacheWriteTokens: 0 });
    expect(first.result!.completion.usage).toMatchObject({ prompt_tokens: 12, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('maps upstream errors: bad key, overloaded, rate limited', async () => {
    const badKey = await complete(chatRequest(), contextFor({ key: 'sk-ant-wrong-key-9999' }));
    expect(badKey.response.status).toBe(401);
    expect(badKey.error).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key', message: 'invalid x-api-key' });

    mock.enqueue({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, headers: { 'retry-after': '3' } });
    const overloaded = await complete(chatRequest());
    expect(overloaded.error).toEqual({ status: 503, type: 'service_unavailable_error', code: 'overloaded_error', message: 'Overloaded', retryAfterMs: 3000 });

    mock.enqueue({ status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } }, headers: { 'retry-after-ms': '250' } });
    expect((await complete(chatRequest())).error).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 250 });
  });

  it('turns an error event after HTTP 200 into an error event', async () => {
    const text = readFileSync(new URL('../anthropic-format/fixtures/stream-overloaded-after-start.sse', import.meta.url), 'utf8');
    const streamEvents = text
      .trim()
      .split('\n\n')
      .map((block) => {
        const [eventLine, dataLine] = block.split('\n');
        return { event: eventLine!.slice('event: '.length), data: JSON.parse(dataLine!.slice('data: '.length)) as unknown };
      });
    mock.enqueue({ streamEvents });
    const { events, chunks } = await stream(chatRequest());
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hel');
    expect(events.at(-1)).toEqual({ kind: 'error', error: { status: 503, type: 'service_unavailable_error', code: 'overloaded_error', message: 'Overloaded' } });
  });

  it('reports a stream the upstream cut off', async () => {
    mock.enqueue({
      streamEvents: [
        { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_cut', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'par' } } },
      ],
      failAfter: 3,
    });
    const context = contextFor();
    const upstream = await adapter.chat.buildRequest(chatRequest(), context, { stream: true });
    const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
    const decoder = adapter.chat.createStreamDecoder(context);
    const events: StreamEvent[] = [];
    await expect(
      (async () => {
        for await (const part of response.body) events.push(...decoder.push(part as Uint8Array));
      })(),
    ).rejects.toThrow();
    events.push(...decoder.finish());
    expect(events.at(-1)).toMatchObject({ kind: 'error', error: { status: 502, code: 'upstream_invalid_stream' } });
  });
});

describe('the Anthropic mock', () => {
  async function raw(body: unknown, headers: Record<string, string> = {}) {
    const response = await request(`${mock.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.statusCode, body: (await response.body.json()) as { type: string; error: { type: string; message: string } } };
  }
  const valid = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

  it('rejects what the real API rejects, with Anthropic error bodies', async () => {
    expect(await raw({ ...valid, messages: [{ role: 'system', content: 'x' }, ...valid.messages] })).toMatchObject({
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('Unexpected role "system"') } },
    });
    expect((await raw({ model: 'm', messages: valid.messages })).body.error.message).toBe('max_tokens: Field required');
    expect((await raw({ ...valid, messages: [{ role: 'assistant', content: 'x' }] })).body.error.message).toContain('first message');
    expect((await raw({ ...valid, messages: [...valid.messages, { role: 'user', content: 'again' }] })).body.error.message).toContain('alternate');
    expect((await raw({ ...valid, temperature: 0.5, top_p: 0.9 })).status).toBe(400);
    const noVersion = await request(`${mock.baseUrl}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(valid) });
    expect(noVersion.statusCode).toBe(400);
    await noVersion.body.dump();
    expect(await raw(valid, { 'x-api-key': '' })).toMatchObject({ status: 401, body: { error: { type: 'authentication_error' } } });
  });
});

describe('a native Messages request', () => {
  it("copies the members it sends as written from the client's text, and serialises only what it sets", async () => {
    const text = '{"model":"anthropic/claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"caf\\u00e9 au lait"}],"fallbacks":["openai/gpt-4o"]}';
    const values = JSON.parse(text) as Record<string, unknown>;
    const { fallbacks: _fallbacks, ...body } = values;
    const context = { ...contextFor(), model: 'claude-sonnet-4-5' };
    const upstream = await adapter.chat.buildRequest(chatRequest(), context, { stream: true, native: { format: 'anthropic-messages', body, source: { bytes: Buffer.from(text), values } } });
    // The client's spelling (`\u00e9`) kept, the model the upstream knows, stream set by the adapter.
    expect(new TextDecoder().decode(upstream.body as Uint8Array)).toBe('{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"caf\\u00e9 au lait"}],"max_tokens":64,"stream":true}');
  });
});
