import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { createCohereStreamDecoder } from './stream-decoder.js';

const context = { model: 'command-a-03-2025', requestId: 'req-1', now: () => 1_700_000_000_000 };
const encoder = new TextEncoder();

function fixtureBytes(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Feeds the bytes in pieces of `size` (1 splits inside every multi-byte character and every line). */
function decodeAll(decoder: StreamDecoder, bytes: Uint8Array, size: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...decoder.push(bytes.subarray(start, start + size)));
  events.push(...decoder.finish());
  return events;
}

function chunks(events: StreamEvent[]): ChatCompletionChunk[] {
  return events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
}

describe('createCohereStreamDecoder', () => {
  it('decodes the documented text stream the same way whatever the split', () => {
    const bytes = fixtureBytes('chat-stream-text.sse');
    const whole = decodeAll(createCohereStreamDecoder(context), bytes, bytes.length);
    for (const size of [1, 7, 64]) expect(decodeAll(createCohereStreamDecoder(context), bytes, size)).toEqual(whole);

    const list = chunks(whole);
    expect(whole.every((event) => event.kind === 'chunk')).toBe(true);
    const usageChunk = list.pop()!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({ prompt_tokens: 71, completion_tokens: 12, total_tokens: 83, prompt_tokens_details: { cached_tokens: 0 } });
    expect(list.map((chunk) => chunk.choices[0]!.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'A large language model' },
      { content: ' (LLM) is a neural network.' },
      {},
    ]);
    expect(list.map((chunk) => chunk.choices[0]!.finish_reason)).toEqual([null, null, null, 'stop']);
    expect(new Set(list.map((chunk) => chunk.id))).toEqual(new Set(['chatcmpl-29f14a5a-11de-4cae-9800-25e4747408ea']));
    expect(list[0]).toMatchObject({ object: 'chat.completion.chunk', created: 1_700_000_000, model: 'command-a-03-2025' });
  });

  it('reports usage from message-end', () => {
    const decoder = createCohereStreamDecoder(context);
    expect(decoder.usage()).toBeUndefined();
    decodeAll(decoder, fixtureBytes('chat-stream-text.sse'), 13);
    expect(decoder.usage()).toEqual({ inputTokens: 71, outputTokens: 12, cachedInputTokens: 0 });
  });

  it('decodes tool plans and two tool calls into indexed OpenAI tool-call deltas', () => {
    const list = chunks(decodeAll(createCohereStreamDecoder(context), fixtureBytes('chat-stream-tool-call.sse'), 5));
    expect(list.pop()!.usage).toMatchObject({ prompt_tokens: 913, completion_tokens: 81 });
    const deltas = list.map((chunk) => chunk.choices[0]!.delta);
    expect(deltas).toEqual([
      { role: 'assistant', content: '' },
      { content: 'I will look up' },
      { content: ' the weather.' },
      { tool_calls: [{ index: 0, id: 'get_weather_nsz5zm3w56q3', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Toronto"}' } }] },
      { tool_calls: [{ index: 1, id: 'get_weather_qbt2k8ys1kfa', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"location":"Paris"}' } }] },
      {},
    ]);
    expect(list.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('keeps multi-byte characters split across pushes intact', () => {
    const text = 'event: message-start\ndata: {"type":"message-start","id":"m1"}\n\n' +
      'event: content-delta\ndata: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"héllo 🌍"}}}}\n\n' +
      'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"MAX_TOKENS"}}\n\n';
    const list = chunks(decodeAll(createCohereStreamDecoder(context), encoder.encode(text), 1));
    expect(list[1]!.choices[0]!.delta.content).toBe('héllo 🌍');
    // No usage in message-end: no usage chunk, the finish chunk is last.
    expect(list.at(-1)!.choices[0]!.finish_reason).toBe('length');
  });

  it('turns a message-end with finish_reason ERROR into an error event', () => {
    const text = 'event: message-start\ndata: {"type":"message-start","id":"m1"}\n\n' +
      'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal failure"}}\n\n';
    const events = decodeAll(createCohereStreamDecoder(context), encoder.encode(text), 9);
    expect(events.at(-1)).toEqual({ kind: 'error', error: { status: 502, type: 'upstream_error', code: 'upstream_generation_error', message: 'internal failure' } });
  });

  it('reports a stream cut before message-end as an error, once', () => {
    const text = 'event: message-start\ndata: {"type":"message-start","id":"m1"}\n\n' +
      'event: content-delta\ndata: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"partial"}}}}\n\n';
    const events = decodeAll(createCohereStreamDecoder(context), encoder.encode(text), 11);
    const errors = events.filter((event) => event.kind === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ error: { status: 502, code: 'upstream_stream_incomplete' } });
  });

  it('ignores a trailing [DONE] and an event without its final blank line', () => {
    const text = 'event: message-start\ndata: {"type":"message-start","id":"m1"}\n\n' +
      'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"COMPLETE"}}';
    const events = decodeAll(createCohereStreamDecoder(context), encoder.encode(`${text}`), 4);
    expect(events.filter((event) => event.kind === 'error')).toEqual([]);
    expect(chunks(events).at(-1)!.choices[0]!.finish_reason).toBe('stop');

    const withDone = decodeAll(createCohereStreamDecoder(context), encoder.encode(`${text}\n\ndata: [DONE]\n\n`), 4);
    expect(withDone.filter((event) => event.kind === 'error')).toEqual([]);
  });
});
