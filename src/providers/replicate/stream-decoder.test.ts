import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { createReplicateStreamDecoder } from './stream-decoder.js';

const context = { model: 'meta/meta-llama-3-8b-instruct', requestId: 'req-7', now: () => 1_700_000_000_000 };

function decodeAll(decoder: StreamDecoder, bytes: Uint8Array, size: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...decoder.push(bytes.subarray(start, start + size)));
  events.push(...decoder.finish());
  return events;
}

function fixtureBytes(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

describe('createReplicateStreamDecoder', () => {
  it('maps output events to content deltas and done to a stop chunk, whatever the split', () => {
    const bytes = fixtureBytes('stream-output.sse');
    const whole = decodeAll(createReplicateStreamDecoder(context), bytes, bytes.length);
    for (const size of [1, 3, 17]) expect(decodeAll(createReplicateStreamDecoder(context), bytes, size)).toEqual(whole);
    const chunks = whole.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(chunks).toHaveLength(whole.length);
    expect(chunks.map((chunk) => chunk.choices[0]!.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Once upon' }, { content: ' a time' }, { content: '...' }, {}]);
    expect(chunks.map((chunk) => chunk.choices[0]!.finish_reason)).toEqual([null, null, null, null, 'stop']);
    expect(chunks[0]).toMatchObject({ id: 'chatcmpl-req-7', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'meta/meta-llama-3-8b-instruct' });
  });

  it('keeps multi-line output fragments', () => {
    const bytes = new TextEncoder().encode('event: output\ndata: line one\ndata: line two\n\nevent: done\ndata: {}\n\n');
    const chunks = decodeAll(createReplicateStreamDecoder(context), bytes, 2).flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(chunks[1]!.choices[0]!.delta.content).toBe('line one\nline two');
  });

  it('ends with one error event on an error event, ignoring the done that follows', () => {
    const events = decodeAll(createReplicateStreamDecoder(context), fixtureBytes('stream-error.sse'), 5);
    expect(events.filter((event) => event.kind === 'error')).toEqual([
      { kind: 'error', error: { status: 502, type: 'server_error', code: 'prediction_failed', message: 'Replicate prediction failed: CUDA out of memory' } },
    ]);
    expect(events.at(-1)!.kind).toBe('error');
  });

  it('reports a canceled prediction and a stream without done as errors', () => {
    const canceled = new TextEncoder().encode('event: output\ndata: Hi\n\nevent: done\ndata: {"reason": "canceled"}\n\n');
    expect(decodeAll(createReplicateStreamDecoder(context), canceled, 4).at(-1)).toMatchObject({ kind: 'error', error: { code: 'prediction_canceled' } });
    const cut = new TextEncoder().encode('event: output\ndata: Hi\n\n');
    expect(decodeAll(createReplicateStreamDecoder(context), cut, 4).at(-1)).toMatchObject({ kind: 'error', error: { code: 'upstream_stream_incomplete' } });
  });

  it('has no usage to report: the documented done event carries no metrics', () => {
    const decoder = createReplicateStreamDecoder(context);
    const events = decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);
    // A clean end (stop chunk, no error) that still reports nothing, so the core settles it as usage_missing.
    expect(events.at(-1)).toMatchObject({ kind: 'chunk', chunk: { choices: [{ finish_reason: 'stop' }] } });
    expect(events.some((event) => event.kind === 'chunk' && event.chunk.usage !== undefined)).toBe(false);
    expect(decoder.usage()).toBeUndefined();
  });
});
