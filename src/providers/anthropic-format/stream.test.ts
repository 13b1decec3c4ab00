import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { createAnthropicStreamDecoder } from './stream.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

function decoder(): StreamDecoder {
  return createAnthropicStreamDecoder({ model: 'claude-test', created: 1_700_000_000, secrets: ['sk-ant-secret-value'] });
}

/** Feeds the bytes in pieces of `size` (1 = every possible split point) and collects every event. */
function decode(bytes: Uint8Array, size = bytes.length, target: StreamDecoder = decoder()): { events: StreamEvent[]; target: StreamDecoder } {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...target.push(bytes.subarray(start, start + size)));
  events.push(...target.finish());
  return { events, target };
}

function chunks(events: StreamEvent[]): ChatCompletionChunk[] {
  return events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
}

function text(events: StreamEvent[]): string {
  return chunks(events)
    .map((chunk) => chunk.choices[0]?.delta.content ?? '')
    .join('');
}

function encode(events: Array<Record<string, unknown>>): Uint8Array {
  return new TextEncoder().encode(events.map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`).join(''));
}

const messageStart = {
  type: 'message_start',
  message: { id: 'msg_x', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } },
};

describe('createAnthropicStreamDecoder', () => {
  it('decodes the documented basic stream into role, text, finish and usage chunks', () => {
    const { events, target } = decode(fixture('stream-basic.sse'));
    const all = chunks(events);
    expect(events.every((event) => event.kind === 'chunk')).toBe(true);
    expect(all.every((chunk) => chunk.id === 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY' && chunk.created === 1_700_000_000 && chunk.model === 'claude-test')).toBe(true);
    expect(all[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(text(events)).toBe('Hello!');
    expect(all.at(-2)!.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop', logprobs: null });
    expect(all.at(-1)!.choices).toEqual([]);
    expect(all.at(-1)!.usage).toEqual({ prompt_tokens: 25, completion_tokens: 15, total_tokens: 40, prompt_tokens_details: { cached_tokens: 0 } });
    expect(target.usage()).toEqual({ inputTokens: 25, outputTokens: 15, cachedInputTokens: 0, cacheWriteTokens: 0 });
  });

  it('decodes the documented tool-use stream the same way whatever the byte splits', () => {
    const whole = decode(fixture('stream-tool-use.sse')).events;
    for (const size of [1, 2, 3, 7, 64]) expect(decode(fixture('stream-tool-use.sse'), size).events).toEqual(whole);
    const all = chunks(whole);
    expect(text(whole)).toBe("Okay, let's check the weather for San Francisco, CA:");
    const toolDeltas = all.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toEqual({ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(toolDeltas.slice(1).every((delta) => delta.index === 0 && delta.id === undefined)).toBe(true);
    const argumentsText = toolDeltas.map((delta) => delta.function?.arguments ?? '').join('');
    expect(JSON.parse(argumentsText)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(all.find((chunk) => chunk.choices[0]?.finish_reason !== null && chunk.choices[0]?.finish_reason !== undefined)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('numbers tool calls by their own count, not by block index', () => {
    const block = (index: number, id: string) => [
      { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: 'f', input: {} } },
      { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: `{"n":${index}}` } },
      { type: 'content_block_stop', index },
    ];
    const { events } = decode(
      encode([
        messageStart,
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_stop', index: 0 },
        ...block(1, 'a'),
        ...block(2, 'b'),
        { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } },
        { type: 'message_stop' },
      ]),
    );
    const deltas = chunks(events).flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.map((delta) => [delta.index, delta.id ?? null, delta.function?.arguments])).toEqual([
      [0, 'a', ''],
      [0, null, '{"n":1}'],
      [1, 'b', ''],
      [1, null, '{"n":2}'],
    ]);
  });

  it('sends a tool input given whole in content_block_start when no deltas follow', () => {
    const { events } = decode(
      encode([
        messageStart,
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't', name: 'f', input: { a: 1 } } },
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 2 } },
        { type: 'message_stop' },
      ]),
    );
    const argumentsText = chunks(events)
      .flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])
      .map((delta) => delta.function?.arguments ?? '')
      .join('');
    expect(argumentsText).toBe('{"a":1}');
  });

  it('streams thinking as reasoning_content with its signature, and reports no usage when none came', () => {
    const { events, target } = decode(fixture('stream-thinking.sse'), 5);
    const deltas = chunks(events).map((chunk) => chunk.choices[0]?.delta ?? {});
    const reasoning = deltas.map((delta) => delta.reasoning_content ?? '').join('');
    expect(reasoning).toContain('GCD(1071, 462) = 21.');
    expect(reasoning).toContain('2 × 462');
    expect(deltas.find((delta) => delta.reasoning_signature !== undefined)?.reasoning_signature).toBe('EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...');
    expect(text(events)).toBe('The greatest common divisor of 1071 and 462 is **21**.');
    expect(target.usage()).toBeUndefined();
    expect(chunks(events).some((chunk) => chunk.usage !== undefined)).toBe(false);
  });

  it('drops server-tool blocks and takes the final usage from message_delta', () => {
    const { events, target } = decode(fixture('stream-web-search.sse'), 11);
    expect(chunks(events).some((chunk) => chunk.choices[0]?.delta.tool_calls !== undefined)).toBe(false);
    expect(text(events)).toBe("I'll check the current weather in New York City for you.Here's the current weather information for New York City:\n\n# Weather");
    expect(target.usage()).toEqual({ inputTokens: 10_682, outputTokens: 510, cachedInputTokens: 0, cacheWriteTokens: 0 });
  });

  it('turns an error event after HTTP 200 into an error that ends the stream', () => {
    const { events } = decode(fixture('stream-overloaded-after-start.sse'), 4);
    expect(text(events)).toBe('Hel');
    const last = events.at(-1)!;
    expect(last).toEqual({ kind: 'error', error: { status: 503, type: 'service_unavailable_error', code: 'overloaded_error', message: 'Overloaded' } });
    expect(events.filter((event) => event.kind === 'error')).toHaveLength(1);
  });

  it('ignores unknown events and pings, and reads cache usage', () => {
    const { events, target } = decode(
      encode([
        { type: 'ping' },
        { ...messageStart, message: { ...messageStart.message, usage: { input_tokens: 4, cache_creation_input_tokens: 100, cache_read_input_tokens: 900, output_tokens: 1 } } },
        { type: 'future_event', payload: { anything: true } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'future_delta', value: 1 } },
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 7 } },
        { type: 'message_stop' },
      ]),
    );
    expect(text(events)).toBe('ok');
    expect(chunks(events).some((chunk) => chunk.choices[0]?.finish_reason === 'length')).toBe(true);
    expect(target.usage()).toEqual({ inputTokens: 1004, outputTokens: 7, cachedInputTokens: 900, cacheWriteTokens: 100 });
  });

  it('keeps multi-byte characters split across pushes intact', () => {
    const bytes = encode([
      messageStart,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo 世界 🎉' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } },
      { type: 'message_stop' },
    ]);
    expect(text(decode(bytes, 1).events)).toBe('héllo 世界 🎉');
  });

  it('reports a stream that ends before message_stop, or that is not JSON', () => {
    const truncated = decode(fixture('stream-basic.sse').subarray(0, 600)).events;
    expect(truncated.at(-1)).toMatchObject({ kind: 'error', error: { status: 502, code: 'upstream_invalid_stream' } });
    const garbage = decode(new TextEncoder().encode('event: message_start\ndata: {not json\n\n')).events;
    expect(garbage).toHaveLength(1);
    expect(garbage[0]).toMatchObject({ kind: 'error', error: { status: 502 } });
    const empty = decode(new Uint8Array()).events;
    expect(empty).toEqual([expect.objectContaining({ kind: 'error' })]);
  });

  it('reads a final event that lacks its blank line', () => {
    const bytes = new TextDecoder().decode(fixture('stream-basic.sse')).trimEnd();
    const { events } = decode(new TextEncoder().encode(bytes));
    expect(events.some((event) => event.kind === 'error')).toBe(false);
    expect(chunks(events).at(-1)!.usage).toBeDefined();
  });

  it('redacts the key from error messages', () => {
    const { events } = decode(
      encode([messageStart, { type: 'error', error: { type: 'api_error', message: 'bad key sk-ant-secret-value here' } }]),
    );
    expect(events.at(-1)).toEqual({
      kind: 'error',
      error: { status: 502, type: 'server_error', code: 'api_error', message: 'bad key [redacted] here' },
    });
  });
});

describe('the decoder of a native stream', () => {
  const nativeDecoder = (): StreamDecoder =>
    createAnthropicStreamDecoder({ model: 'claude-test', created: 1_700_000_000, secrets: ['sk-ant-secret-value'], native: true });
  const texts = (events: StreamEvent[]): string[] => events.flatMap((event) => (event.kind === 'native' ? [event.text] : []));

  it('translates a stream whose message_start a client could not read as it is (the usage left out)', () => {
    const bytes = fixture('stream-thinking.sse');
    const { events } = decode(bytes, 7, nativeDecoder());
    expect(events).toEqual(decode(bytes, 7).events);
    expect(chunks(events).length).toBeGreaterThan(0);
  });

  it.each(['stream-basic.sse', 'stream-tool-use.sse', 'stream-web-search.sse'])(
    "emits each event of %s as Anthropic's SSE text, never chunks, and reads the usage",
    (name) => {
      const bytes = fixture(name);
      const { events, target } = decode(bytes, 7, nativeDecoder());
      expect(chunks(events)).toEqual([]);
      expect(events.every((event) => event.kind === 'native')).toBe(true);
      // What went out is the upstream's stream, event for event.
      const sent = new TextDecoder().decode(bytes);
      const blocks = sent.split('\n\n').filter((block) => block.includes('data:'));
      expect(texts(events).map((text) => text.trim())).toEqual(blocks.map((block) => block.trim()));
      expect(target.usage()).toEqual(decode(bytes).target.usage());
      expect(target.usage()).toBeDefined();
    },
  );

  it('names an event by the type its data gives', () => {
    const bytes = new TextEncoder().encode(`event: content_blok_start\ndata: ${JSON.stringify(messageStart)}\n\n`);
    const { events } = decode(bytes, bytes.length, nativeDecoder());
    expect(texts(events)[0]).toBe(`event: message_start\ndata: ${JSON.stringify(messageStart)}\n\n`);
  });

  it('ends with an error event, not the bytes, for an error, an event without a type, or one a client could not read', () => {
    const cases: Array<Record<string, unknown>> = [
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded sk-ant-secret-value' } },
      { index: 0, delta: { type: 'text_delta', text: 'no type' } },
      { type: 'content_block_delta', index: 'first', delta: { type: 'text_delta', text: 'x' } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: -1 } },
    ];
    for (const broken of cases) {
      const { events } = decode(encode([messageStart, broken, { type: 'message_stop' }]), 5, nativeDecoder());
      expect(texts(events)).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ kind: 'error' });
      expect(JSON.stringify(events)).not.toContain('sk-ant-secret-value');
    }
    // The same at the start is translated instead (see above), whatever the member.
    const unsound = { ...messageStart, message: { ...messageStart.message, id: 7 } };
    expect(decode(encode([unsound, { type: 'message_stop' }]), 5, nativeDecoder()).events.map((event) => event.kind)).toEqual(['chunk', 'chunk']);
  });

  it('forwards one message_start: a second would make a client start its message anew', () => {
    const bytes = encode([messageStart, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, messageStart, { type: 'message_stop' }]);
    const sent = texts(decode(bytes, 3, nativeDecoder()).events);
    expect(sent.map((text) => text.split('\n')[0])).toEqual(['event: message_start', 'event: content_block_start', 'event: message_stop']);
  });

  it('ends with an error event when the stream stops before message_stop', () => {
    const { events } = decode(encode([messageStart]), 5, nativeDecoder());
    expect(events.map((event) => event.kind)).toEqual(['native', 'error']);
  });
});
