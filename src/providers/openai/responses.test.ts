import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { fromResponsesUsage } from '../../spec/usage.js';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createOpenAIAdapter, openAIDescription } from './index.js';
import { createResponsesStreamDecoder, nativeResponsesBody, parseNativeResponse } from '../openai-responses/index.js';
import { buildNativeResponsesRequest } from './responses-request.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

const utf8 = new TextEncoder();

/** Feeds the bytes in pieces of `size` (1 = every possible split point) and collects every event. */
function decode(bytes: Uint8Array, size = bytes.length, target: StreamDecoder = createResponsesStreamDecoder({ secrets: ['sk-test-key-0001'] })): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...target.push(bytes.subarray(start, start + size)));
  events.push(...target.finish());
  return events;
}

function nativeText(events: StreamEvent[]): string {
  return events.map((event) => (event.kind === 'native' ? event.text : '')).join('');
}

function errorsOf(events: StreamEvent[]) {
  return events.flatMap((event) => (event.kind === 'error' ? [event.error] : []));
}

/** The fixture stream's events as SSE text, each as written. */
function sse(events: readonly Record<string, unknown>[]): Uint8Array {
  return utf8.encode(events.map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`).join(''));
}

const streamEvents = new TextDecoder()
  .decode(fixture('responses-text-stream.sse'))
  .split('\n\n')
  .filter((block) => block !== '')
  .map((block) => JSON.parse(block.split('\n')[1]!.slice('data: '.length)) as Record<string, unknown>);

describe('nativeResponsesBody', () => {
  const client = {
    model: 'openai/gpt-5',
    input: [{ role: 'user', content: 'hi' }, { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA' }],
    instructions: 'Be brief.',
    include: ['reasoning.encrypted_content'],
    store: false,
    reasoning: { effort: 'low' },
    text: { verbosity: 'low' },
    service_tier: 'priority',
    fallbacks: ['anthropic/claude-sonnet-4-5'],
    stream: true,
    stream_options: { include_obfuscation: false },
    some_future_member: 1,
  };

  it("carries the client's members that may travel under OpenAI's model, the model first", () => {
    const body = nativeResponsesBody(client, 'gpt-5', false);
    expect(body).toEqual({
      model: 'gpt-5',
      input: client.input,
      instructions: 'Be brief.',
      include: ['reasoning.encrypted_content'],
      store: false,
      reasoning: { effort: 'low' },
      text: { verbosity: 'low' },
    });
    expect(Object.keys(body)[0]).toBe('model');
    // The very values, not copies: a source can then copy their text.
    expect(body.input).toBe(client.input);
  });

  it('streams only when the attempt streams, with the stream options then', () => {
    expect(nativeResponsesBody(client, 'gpt-5', true)).toMatchObject({ stream: true, stream_options: { include_obfuscation: false } });
    const { stream_options: _options, ...withoutOptions } = client;
    expect(nativeResponsesBody(withoutOptions, 'gpt-5', true)).not.toHaveProperty('stream_options');
  });
});

describe('buildNativeResponsesRequest', () => {
  it("posts to the Responses path of the base URL with the key's bearer and the configured headers", () => {
    const context = createTestContext({ baseUrl: 'https://gateway.example/v1/', model: 'gpt-5', extraHeaders: { 'OpenAI-Organization': 'org-1' } });
    const request = buildNativeResponsesRequest(openAIDescription, { model: 'openai/gpt-5', input: 'hi' }, context, { stream: true });
    expect(request.url).toBe('https://gateway.example/v1/responses');
    expect(request.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer sk-test-key-0001', accept: 'text/event-stream', 'openai-organization': 'org-1' });
    expect(JSON.parse(request.body as string)).toEqual({ model: 'gpt-5', input: 'hi', stream: true });
  });

  it("copies the members it keeps from the client's text", () => {
    const text = '{"model":"openai/gpt-5","input":[{"role":"user","content":"caf\\u00e9"}],"fallbacks":["x/y"]}';
    const source = { bytes: Buffer.from(text), values: JSON.parse(text) as Record<string, unknown> };
    const request = buildNativeResponsesRequest(openAIDescription, source.values, createTestContext({ model: 'gpt-5' }), { stream: false, source });
    expect(new TextDecoder().decode(request.body as Uint8Array)).toBe('{"model":"gpt-5","input":[{"role":"user","content":"caf\\u00e9"}]}');
  });
});

describe('parseNativeResponse', () => {
  it("reads a reasoning model's Response: usage with cache reads and reasoning, and the completion it amounts to", () => {
    const result = parseNativeResponse(fixture('responses-reasoning-reply.json'));
    expect(result.nativeSound).toBe(true);
    expect(result.usage).toEqual({ inputTokens: 2048, outputTokens: 209, cachedInputTokens: 1920, reasoningTokens: 192 });
    expect(result.completion.model).toBe('gpt-5-2025-08-07');
    expect(result.completion.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { role: 'assistant', content: '2 + 2 = 4.', reasoning_content: '**Checking the sum**\n\nThe user asks for 2 + 2, which is 4.' },
    });
  });

  it('reads a function call as a tool call', () => {
    const result = parseNativeResponse(fixture('responses-function-call-reply.json'));
    expect(result.completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [{ id: 'call_unLAR8MvFNptuiZK6K6HCy5k', type: 'function', function: { name: 'get_current_weather', arguments: '{"location":"Boston, MA","unit":"celsius"}' } }],
      },
    });
    expect(result.usage).toMatchObject({ inputTokens: 291, outputTokens: 23 });
  });

  it('reads a response cut short as a finish for length', () => {
    const reply = JSON.parse(new TextDecoder().decode(fixture('responses-reasoning-reply.json'))) as Record<string, unknown>;
    const cut = { ...reply, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
    expect(parseNativeResponse(utf8.encode(JSON.stringify(cut))).completion.choices[0]!.finish_reason).toBe('length');
  });

  it('refuses with a 502 a reply a client could not read, and leaves a missing usage unknown', () => {
    const reply = JSON.parse(new TextDecoder().decode(fixture('responses-reasoning-reply.json'))) as Record<string, unknown>;
    const refused = [
      'not json',
      '[]',
      JSON.stringify({ ...reply, id: 7 }),
      JSON.stringify({ ...reply, object: 'chat.completion' }),
      JSON.stringify({ ...reply, status: null }),
      JSON.stringify({ ...reply, status: 'failed' }),
      JSON.stringify({ ...reply, output: [{ type: 'message', content: null }] }),
      JSON.stringify({ ...reply, output: [{ type: 'message', content: [{ type: 'output_text', text: 5 }] }] }),
      JSON.stringify({ ...reply, output: [{ type: 'function_call', call_id: 'call_1', name: 'f' }] }),
      JSON.stringify({ ...reply, usage: { input_tokens: 1, output_tokens: 1, input_tokens_details: { cached_tokens: -2 } } }),
      JSON.stringify({ ...reply, model: undefined }),
      JSON.stringify({ ...reply, output: {} }),
      JSON.stringify({ ...reply, output: [{ id: 'x' }] }),
      JSON.stringify({ ...reply, usage: { input_tokens: '12', output_tokens: 3 } }),
      JSON.stringify({ ...reply, usage: 'lots' }),
    ];
    for (const body of refused) {
      expect(() => parseNativeResponse(utf8.encode(body)), body.slice(0, 60)).toThrow(expect.objectContaining({ status: 502 }));
    }
    const withoutUsage = parseNativeResponse(utf8.encode(JSON.stringify({ ...reply, usage: null })));
    expect(withoutUsage.nativeSound).toBe(true);
    expect(withoutUsage.usage).toBeUndefined();
  });
});

describe('createResponsesStreamDecoder', () => {
  it("forwards every event as OpenAI wrote it, wherever the bytes split, and reads the usage of response.completed", () => {
    const bytes = fixture('responses-text-stream.sse');
    for (const size of [1, 7, 64, bytes.length]) {
      const target = createResponsesStreamDecoder();
      const events = decode(bytes, size, target);
      expect(events.every((event) => event.kind === 'native')).toBe(true);
      expect(nativeText(events)).toBe(new TextDecoder().decode(bytes));
      expect(target.usage()).toEqual({ inputTokens: 37, outputTokens: 11, cachedInputTokens: 0, reasoningTokens: 0 });
    }
  });

  it('ends with an error, naming no secret, on an error event or a failed response', () => {
    const error = { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down (sk-test-key-0001)', param: null, sequence_number: 2 };
    const events = decode(sse([streamEvents[0]!, streamEvents[1]!, error, streamEvents[2]!]));
    expect(events.map((event) => event.kind)).toEqual(['native', 'native', 'error']);
    expect(errorsOf(events)[0]).toMatchObject({ code: 'rate_limit_exceeded', message: 'Slow down ([redacted])' });
    // The nested form some servers write reads the same.
    const nested = decode(sse([streamEvents[0]!, { type: 'error', error: { type: 'server_error', code: 'overloaded', message: 'Busy' }, sequence_number: 1 }]));
    expect(errorsOf(nested)[0]).toMatchObject({ type: 'server_error', code: 'overloaded', message: 'Busy' });

    const created = streamEvents[0]!.response as Record<string, unknown>;
    const failed = { type: 'response.failed', sequence_number: 1, response: { ...created, status: 'failed', error: { code: 'server_error', message: 'The model failed.' } } };
    const failing = decode(sse([streamEvents[0]!, failed]));
    expect(failing.map((event) => event.kind)).toEqual(['native', 'error']);
    expect(errorsOf(failing)[0]!.message).toBe('The model failed.');
  });

  it('ends with an error when the stream stops before its response completed', () => {
    const events = decode(sse(streamEvents.slice(0, -1)));
    expect(events.slice(0, -1).every((event) => event.kind === 'native')).toBe(true);
    expect(errorsOf(events)).toEqual([expect.objectContaining({ status: 502, code: 'upstream_invalid_stream' })]);
  });

  it('ends with an error at an event a client could not read, forwarding nothing of it', () => {
    const broken = [
      'data: {not json}\n\n',
      'data: [1]\n\n',
      `data: ${JSON.stringify({ ...streamEvents[2]!, sequence_number: undefined })}\n\n`,
      `data: ${JSON.stringify({ ...streamEvents[2]!, item: { id: 'x' } })}\n\n`,
      `data: ${JSON.stringify({ ...streamEvents.at(-1)!, response: { ...(streamEvents.at(-1)!.response as object), usage: { input_tokens: -1 } } })}\n\n`,
    ];
    for (const event of broken) {
      const events = decode(utf8.encode(new TextDecoder().decode(sse(streamEvents.slice(0, 2))) + event));
      expect(events.map((item) => item.kind), event).toEqual(['native', 'native', 'error']);
    }
  });

  it('names a forwarded event by its data type, and forwards nothing after the response completed', () => {
    const misnamed = `event: response.done\ndata: ${JSON.stringify(streamEvents[0])}\n\n`;
    const events = decode(utf8.encode(misnamed + new TextDecoder().decode(sse(streamEvents.slice(1))) + `data: ${JSON.stringify(streamEvents[1])}\n\n`));
    expect(nativeText(events).startsWith('event: response.created\n')).toBe(true);
    expect(events).toHaveLength(streamEvents.length);
  });
});

describe('fromResponsesUsage', () => {
  it('reads the counts and their details, and no report whose counts are not counts', () => {
    expect(fromResponsesUsage({ input_tokens: 10, output_tokens: 4, input_tokens_details: { cached_tokens: 6 }, output_tokens_details: { reasoning_tokens: 2 } })).toEqual({
      inputTokens: 10,
      outputTokens: 4,
      cachedInputTokens: 6,
      reasoningTokens: 2,
    });
    expect(fromResponsesUsage({ input_tokens: 10, output_tokens: 4 })).toEqual({ inputTokens: 10, outputTokens: 4, cachedInputTokens: 0 });
    expect(fromResponsesUsage({ input_tokens: 10, output_tokens: 1.5 })).toBeUndefined();
    expect(fromResponsesUsage({ input_tokens: 10, output_tokens: 4, input_tokens_details: { cached_tokens: '6' } })).toBeUndefined();
    expect(fromResponsesUsage(null)).toBeUndefined();
  });
});

describe('the OpenAI adapter', () => {
  const adapter = createOpenAIAdapter({});
  const native = { format: 'openai-responses' as const, body: { model: 'openai/gpt-4o', input: 'hi' } };

  it("takes a native Responses request for OpenAI's own provider only", () => {
    expect(adapter.chat.nativeFormats).toEqual(['openai-responses']);
    expect(adapter.chat.takesNative?.(createTestContext(), 'openai-responses')).toBe(true);
    const custom = createTestContext();
    custom.provider = { ...custom.provider, name: 'my-local-server' };
    expect(adapter.chat.takesNative?.(custom, 'openai-responses')).toBe(false);
  });

  it('sends and parses natively only when the core says the attempt is native', async () => {
    const context = createTestContext({ model: 'gpt-4o' });
    const chat = { model: 'openai/gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };
    expect((await adapter.chat.buildRequest(chat, context, { stream: false, native })).url).toBe('https://api.openai.com/v1/responses');
    expect((await adapter.chat.buildRequest(chat, context, { stream: false })).url).toBe('https://api.openai.com/v1/chat/completions');
    const reply = { status: 200, headers: {}, body: fixture('responses-reasoning-reply.json') };
    expect((await adapter.chat.parseResponse(reply, context, { native: true })).nativeSound).toBe(true);
    const chatReply = { status: 200, headers: {}, body: readFileSync(new URL('../openai-compatible/fixtures/openai-completion.json', import.meta.url)) };
    const translated = await adapter.chat.parseResponse(chatReply, context);
    expect(translated.nativeSound).toBeUndefined();
    expect(translated.passthrough).toBe(true);
  });
});

describe('createResponsesStreamDecoder, the start', () => {
  it('ends with an error a stream that does not begin with response.created, which the SDKs need first', () => {
    const events = decode(sse(streamEvents.slice(1)));
    expect(events.map((event) => event.kind)).toEqual(['error']);
  });
});

describe('createResponsesStreamDecoder, the order', () => {
  it('ends with an error at an event repeated or out of order, which a client would apply twice', () => {
    const repeated = decode(sse([...streamEvents.slice(0, 4), streamEvents[3]!, ...streamEvents.slice(4)]));
    expect(repeated.map((event) => event.kind)).toEqual(['native', 'native', 'native', 'native', 'error']);
    const swapped = decode(sse([streamEvents[0]!, streamEvents[2]!, streamEvents[1]!]));
    expect(swapped.map((event) => event.kind)).toEqual(['native', 'native', 'error']);
  });

  it('ends with an error a response that completes in a state other than completed or incomplete', () => {
    const final = streamEvents.at(-1)!;
    const failed = { ...final, response: { ...(final.response as object), status: 'failed' } };
    expect(decode(sse([...streamEvents.slice(0, -1), failed])).at(-1)!.kind).toBe('error');
  });
});

describe("the OpenAI adapter's input-token counter", () => {
  const adapter = createOpenAIAdapter({});
  const native = { format: 'openai-responses' as const, body: { model: 'openai/gpt-5', input: 'hi', instructions: 'Be brief.', max_output_tokens: 5, store: false } };

  it("counts a Responses request on OpenAI's own provider only", () => {
    expect(adapter.countTokens?.counts?.('gpt-5', { provider: 'openai', native })).toBe(true);
    expect(adapter.countTokens?.counts?.('gpt-5', { provider: 'openai' })).toBe(false);
    expect(adapter.countTokens?.counts?.('gpt-5', { provider: 'my-local-server', native })).toBe(false);
  });

  it("posts the request's input side to OpenAI's counter and reads its count", async () => {
    const context = createTestContext({ model: 'gpt-5' });
    const request = await adapter.countTokens!.buildRequest({ messages: {}, chat: { model: 'gpt-5', messages: [] }, native }, context);
    expect(request.url).toBe('https://api.openai.com/v1/responses/input_tokens');
    expect(JSON.parse(request.body as string)).toEqual({ model: 'gpt-5', input: 'hi', instructions: 'Be brief.' });
    const reply = { status: 200, headers: {}, body: utf8.encode('{"object":"response.input_tokens","input_tokens":42}') };
    expect(adapter.countTokens!.parseResponse(reply, context)).toBe(42);
    expect(() => adapter.countTokens!.parseResponse({ ...reply, body: utf8.encode('{"input_tokens":-1}') }, context)).toThrow(expect.objectContaining({ status: 502 }));
  });
});
