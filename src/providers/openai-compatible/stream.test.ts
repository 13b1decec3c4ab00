import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { createCompatibleStreamDecoder } from './stream.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Feeds the bytes in pieces of the given size, then finishes. */
function decode(decoder: StreamDecoder, bytes: Uint8Array, pieceSize: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += pieceSize) events.push(...decoder.push(bytes.subarray(start, start + pieceSize)));
  events.push(...decoder.finish());
  return events;
}

function chunks(events: StreamEvent[]): ChatCompletionChunk[] {
  return events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
}

function dataLines(bytes: Uint8Array): string[] {
  return new TextDecoder()
    .decode(bytes)
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => line.slice('data: '.length));
}

describe('createCompatibleStreamDecoder', () => {
  it('decodes the OpenAI tool-call stream identically whatever the byte split, keeping the upstream text', () => {
    const bytes = fixture('openai-stream-tool-calls.sse');
    const expectedRaw = dataLines(bytes);
    for (const pieceSize of [1, 2, 7, 64, bytes.length]) {
      const decoder = createCompatibleStreamDecoder();
      const events = decode(decoder, bytes, pieceSize);
      expect(events).toHaveLength(9);
      expect(events.map((event) => (event.kind === 'chunk' ? event.raw : undefined))).toEqual(expectedRaw);
      const argumentsText = chunks(events)
        .map((chunk) => chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '')
        .join('');
      expect(JSON.parse(argumentsText)).toEqual({ location: 'Paris, France' });
      expect(chunks(events)[7]?.choices[0]?.finish_reason).toBe('tool_calls');
      expect(decoder.usage()).toEqual({ inputTokens: 68, outputTokens: 16, cachedInputTokens: 0, reasoningTokens: 0 });
    }
  });

  it("reads Groq's x_groq.usage and adds a standard usage chunk at the end", () => {
    const decoder = createCompatibleStreamDecoder();
    const events = decode(decoder, fixture('groq-stream-x-groq.sse'), 13);
    expect(decoder.usage()).toEqual({ inputTokens: 40, outputTokens: 5, cachedInputTokens: 0 });
    expect(events).toHaveLength(5);
    // The upstream chunks stay byte-identical; x_groq travels along as an extra field.
    expect(events.slice(0, 4).every((event) => event.kind === 'chunk' && event.raw !== undefined)).toBe(true);
    const last = events[4];
    expect(last?.kind === 'chunk' && last.raw === undefined).toBe(true);
    expect(last?.kind === 'chunk' ? last.chunk : undefined).toEqual({
      id: 'chatcmpl-6e9c5a7d-2c1b-4d8e-9f1a-3b2c4d5e6f70',
      object: 'chat.completion.chunk',
      created: 1730241104,
      model: 'llama-3.1-8b-instant',
      choices: [],
      usage: { prompt_tokens: 40, completion_tokens: 5, total_tokens: 45, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('adds no usage chunk when the usage already came in a standard field (Mistral puts it on the last chunk)', () => {
    const decoder = createCompatibleStreamDecoder();
    const events = decode(decoder, fixture('mistral-stream.sse'), 5);
    expect(events).toHaveLength(3);
    expect(decoder.usage()).toEqual({ inputTokens: 7, outputTokens: 3, cachedInputTokens: 0 });
  });

  it('normalises null choices of the vLLM usage chunk and survives splits inside multi-byte characters', () => {
    const bytes = fixture('vllm-stream-null-choices.sse');
    const decoder = createCompatibleStreamDecoder();
    const events = decode(decoder, bytes, 1);
    expect(chunks(events)[1]?.choices[0]?.delta.content).toBe('Héllo 👋');
    const usageEvent = events[3];
    expect(usageEvent?.kind === 'chunk' && usageEvent.raw === undefined).toBe(true);
    expect(usageEvent?.kind === 'chunk' ? usageEvent.chunk.choices : undefined).toEqual([]);
    expect(decoder.usage()).toEqual({ inputTokens: 12, outputTokens: 5, cachedInputTokens: 0 });
  });

  it('maps non-standard finish reasons and drops raw for that chunk only', () => {
    const decoder = createCompatibleStreamDecoder({ finishReasons: { eos: 'stop' } });
    const text =
      'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n' +
      'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"eos"}]}\n\n';
    const events = decode(decoder, new TextEncoder().encode(text), 1000);
    expect(events[0]?.kind === 'chunk' && events[0].raw !== undefined).toBe(true);
    expect(events[1]?.kind === 'chunk' && events[1].raw === undefined && events[1].chunk.choices[0]?.finish_reason === 'stop').toBe(true);
  });

  it('turns an error chunk into an error event and ignores what follows', () => {
    const decoder = createCompatibleStreamDecoder({ secrets: ['sk-live-secret-value'] });
    const text =
      'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n' +
      'data: {"error":{"message":"Overloaded for sk-live-secret-value","type":"server_error","param":null,"code":null}}\n\n' +
      'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n';
    const events = decode(decoder, new TextEncoder().encode(text), 9);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual({
      kind: 'error',
      error: { status: 502, type: 'server_error', code: null, message: 'Overloaded for [redacted]', param: null },
    });
  });

  it('reads the status of a vLLM or OpenRouter stream error from its numeric code', () => {
    const decoder = createCompatibleStreamDecoder();
    const text = 'data: {"id":"gen-1","object":"chat.completion.chunk","error":{"code":429,"message":"Rate limited upstream"},"choices":[{"index":0,"delta":{},"finish_reason":"error"}]}\n\n';
    const [event] = decode(decoder, new TextEncoder().encode(text), 4);
    expect(event?.kind === 'error' ? event.error : undefined).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'Rate limited upstream' });
  });

  it('reports a data line that is not JSON as an error, and ignores comments and [DONE]', () => {
    const decoder = createCompatibleStreamDecoder();
    const events = decode(decoder, new TextEncoder().encode(': OPENROUTER PROCESSING\n\ndata: [DONE]\n\ndata: {broken\n\n'), 3);
    expect(events).toHaveLength(1);
    expect(events[0]?.kind === 'error' ? events[0].error.status : undefined).toBe(502);
  });

  it('flushes a final event that lacks its blank line when the body ends', () => {
    const decoder = createCompatibleStreamDecoder();
    const pushed = decoder.push(new TextEncoder().encode('data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}'));
    expect(pushed).toEqual([]);
    expect(decoder.finish()).toHaveLength(1);
  });

  it('reports no usage when the stream carried none', () => {
    const decoder = createCompatibleStreamDecoder();
    decode(decoder, new TextEncoder().encode('data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'), 10);
    expect(decoder.usage()).toBeUndefined();
  });
});
