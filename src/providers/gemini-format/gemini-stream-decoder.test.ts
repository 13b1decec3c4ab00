import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { createGeminiStreamDecoder } from './gemini-stream-decoder.js';
import { readThoughtSignature } from './tool-call-id.js';

function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
}

function decoder(): StreamDecoder {
  return createGeminiStreamDecoder({ model: 'gemini-test', now: () => 1_700_000_000_000 });
}

/** Feeds the bytes in pieces of `size` (1 splits inside multi-byte characters and CRLF pairs). */
function decodeAll(bytes: Uint8Array, size: number, target: StreamDecoder = decoder()): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...target.push(bytes.subarray(start, start + size)));
  events.push(...target.finish());
  return events;
}

function chunks(events: StreamEvent[]): ChatCompletionChunk[] {
  return events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
}

describe('createGeminiStreamDecoder', () => {
  it('emits role, content deltas and the finish chunk, whatever the byte split', () => {
    const bytes = fixtureBytes('stream-text.sse');
    const expected = [{ role: 'assistant', content: '' }, { content: 'The' }, { content: ' sky is blue – ünïcode ✓' }, { content: '.' }, {}];
    for (const size of [1, 2, 7, 64, bytes.length]) {
      const events = decodeAll(bytes, size);
      expect(events.every((event) => event.kind === 'chunk')).toBe(true);
      const all = chunks(events);
      // The last record's usageMetadata closes the stream as a usage-only chunk, as OpenAI does with include_usage.
      expect(all.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } } });
      const list = all.slice(0, -1);
      expect(list.map((chunk) => chunk.choices[0]?.delta)).toEqual(expected);
      expect(list.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual([null, null, null, null, 'stop']);
      expect(new Set(all.map((chunk) => chunk.id))).toEqual(new Set(['chatcmpl-stream-text-1']));
      expect(all.every((chunk) => chunk.created === 1_700_000_000 && chunk.model === 'gemini-test')).toBe(true);
    }
  });

  it('takes usage from the last record', () => {
    const target = decoder();
    decodeAll(fixtureBytes('stream-text.sse'), 5, target);
    expect(target.usage()).toEqual({ inputTokens: 10, outputTokens: 15, cachedInputTokens: 4, reasoningTokens: 6 });
  });

  it('emits whole function calls as one delta each, with indexes, ids and finish_reason tool_calls', () => {
    const all = chunks(decodeAll(fixtureBytes('stream-function-call.sse'), 3));
    expect(all.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 } });
    const list = all.slice(0, -1);
    const deltas = list.map((chunk) => chunk.choices[0]?.delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas[1]).toEqual({ content: 'Let me check.' });
    const calls = deltas[2]?.tool_calls ?? [];
    expect(calls.map(({ index, type, function: fn }) => ({ index, type, fn }))).toEqual([
      { index: 0, type: 'function', fn: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' } },
      { index: 1, type: 'function', fn: { name: 'get_time', arguments: '{"zone":"CET"}' } },
    ]);
    expect(readThoughtSignature(calls[0]?.id)).toBe('c2lnbmF0dXJl');
    expect(calls[1]?.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(list.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'tool_calls', logprobs: null });
    expect(list).toHaveLength(4);
  });

  it('ends a blocked prompt with content_filter', () => {
    const record = { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } };
    const list = chunks(decodeAll(new TextEncoder().encode(`data: ${JSON.stringify(record)}\n\n`), 10));
    expect(list.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual([null, 'content_filter', undefined]);
    expect(list.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 0 } });
  });

  it('turns an error record into an error event and stops', () => {
    const body =
      'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"}}]}\n\n' +
      'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\n\n' +
      'data: {"candidates":[{"content":{"parts":[{"text":"ignored"}],"role":"model"}}]}\n\n';
    const events = decodeAll(new TextEncoder().encode(body), 4);
    expect(events.at(-1)).toEqual({
      kind: 'error',
      error: { status: 503, type: 'service_unavailable_error', code: 'service_unavailable', message: 'The model is overloaded.' },
    });
    expect(events.filter((event) => event.kind === 'error')).toHaveLength(1);
    expect(chunks(events).map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['', 'Hi']);
  });

  it('reports a stream that ends before a finishReason, and reads a last record without its blank line', () => {
    const truncated = decodeAll(new TextEncoder().encode('data: {"candidates":[{"content":{"parts":[{"text":"Hal"}]}}]}\n\n'), 8);
    expect(truncated.at(-1)).toMatchObject({ kind: 'error', error: { status: 502, code: 'upstream_stream_incomplete' } });
    expect(decodeAll(new Uint8Array(), 1)).toMatchObject([{ kind: 'error', error: { status: 502 } }]);

    const unterminated = decodeAll(
      new TextEncoder().encode('data: {"candidates":[{"content":{"parts":[{"text":"Done"}]},"finishReason":"STOP"}]}'),
      8,
    );
    expect(unterminated.every((event) => event.kind === 'chunk')).toBe(true);
    expect(chunks(unterminated).at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('keeps separate state for several candidates', () => {
    const record = {
      candidates: [
        { index: 0, content: { parts: [{ text: 'A' }] }, finishReason: 'STOP' },
        { index: 1, content: { parts: [{ functionCall: { name: 'f', args: {} } }] }, finishReason: 'STOP' },
      ],
    };
    const list = chunks(decodeAll(new TextEncoder().encode(`data: ${JSON.stringify(record)}\n\n`), 1000));
    const finishes = list.filter((chunk) => chunk.choices[0]?.finish_reason).map((chunk) => [chunk.choices[0]?.index, chunk.choices[0]?.finish_reason]);
    expect(finishes).toEqual([
      [0, 'stop'],
      [1, 'tool_calls'],
    ]);
  });
});
