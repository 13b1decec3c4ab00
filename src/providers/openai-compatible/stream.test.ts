import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { ChatCompletionChunk, FinishReason } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { normalizeChoices, readUsage } from './response.js';
import { createCompatibleStreamDecoder, forwardsUnchanged } from './stream.js';

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
    // The stream's last chunk, with its finish reason: the stream is complete once it is flushed.
    const pushed = decoder.push(new TextEncoder().encode('data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'));
    expect(pushed).toEqual([]);
    const flushed = decoder.finish();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]?.kind).toBe('chunk');
  });

  it('reports a stream that ends before [DONE] and before any finish reason as cut short', () => {
    const decoder = createCompatibleStreamDecoder();
    const events = decode(decoder, new TextEncoder().encode('data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n'), 7);
    expect(events.map((event) => event.kind)).toEqual(['chunk', 'error']);
    expect(events[1]?.kind === 'error' ? events[1].error : undefined).toMatchObject({ status: 502, code: 'upstream_stream_incomplete' });
  });

  it('refuses chunks whose choices, deltas or tool calls are not of their types, even when forwarded as text', () => {
    for (const choices of ['[1]', '[{"index":0,"delta":5}]', '[{"index":0,"delta":{"tool_calls":"x"}}]', '[{"index":0,"delta":{"tool_calls":[{"index":"0"}]}}]', '"text"']) {
      const decoder = createCompatibleStreamDecoder();
      const events = decode(decoder, new TextEncoder().encode(`data: {"id":"a","choices":${choices},"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n`), 9);
      expect(events.map((event) => event.kind), choices).toEqual(['error']);
    }
    // Forwarded as the upstream's text (nothing in it to act on), the chunk is checked when a reader parses it.
    const decoder = createCompatibleStreamDecoder();
    const [forwarded] = decoder.push(new TextEncoder().encode('data: {"id":"a","choices":[{"index":0,"delta":{"tool_calls":7}}]}\n\n'));
    expect(forwarded?.kind === 'chunk' ? forwarded.raw : undefined).toBeDefined();
    expect(() => (forwarded?.kind === 'chunk' ? forwarded.chunk : undefined)).toThrow(/cannot read/);
  });

  it('drops a usage report whose counts are not token counts, and reports no usage', () => {
    const decoder = createCompatibleStreamDecoder();
    const text =
      'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
      'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":-4,"completion_tokens":2}}\n\ndata: [DONE]\n\n';
    const events = decode(decoder, new TextEncoder().encode(text), 11);
    expect(events.map((event) => event.kind)).toEqual(['chunk', 'chunk']);
    expect(events[1]?.kind === 'chunk' ? events[1].chunk.usage : 'missing').toBeUndefined();
    expect(decoder.usage()).toBeUndefined();
  });

  it('reports no usage when the stream carried none', () => {
    const decoder = createCompatibleStreamDecoder();
    decode(decoder, new TextEncoder().encode('data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'), 10);
    expect(decoder.usage()).toBeUndefined();
  });
});

/** Writes a JSON value with the given separators, as servers other than JavaScript ones do (Python: ", " and ": "). */
function serialize(value: unknown, comma: string, colon: string): string {
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item, comma, colon)).join(comma)}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${JSON.stringify(key)}${colon}${serialize(member, comma, colon)}`)
      .join(comma)}}`;
  }
  return JSON.stringify(value);
}

/** What the decoder made of each chunk before it learnt to skip parsing: the full parse, normalised. */
function parsedForEveryChunk(data: string, finishReasons: Readonly<Record<string, FinishReason>>) {
  const record = JSON.parse(data) as Record<string, unknown>;
  const changed = normalizeChoices(record, finishReasons);
  return { chunk: record, raw: changed ? undefined : data, usage: readUsage(record) };
}

describe('createCompatibleStreamDecoder, parsing only what needs it', () => {
  const finishReasons: Record<string, FinishReason> = { eos: 'stop' };

  it('gives every chunk, its text and the usage exactly as a full parse of each chunk would', () => {
    const separators = [
      [',', ':'],
      [', ', ': '],
      [' ,\n', ' :\t'],
    ] as const;
    const usages = [undefined, null, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }];
    const finishes = [undefined, null, 'stop', 'tool_calls', 'eos', 'unheard_of', 3, 'with \\"quote'];
    const contents = ['plain', 'say "usage": {"prompt_tokens": 1}', 'error', 'finish_reason', '"choices": null', 'h\u00e9llo \\ "'];
    const choiceShapes = ['one', 'empty', 'null', 'absent'] as const;
    const extras = [{}, { x_groq: { id: 'req_1' } }, { x_groq: { usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } } }, { error: null }];
    let cases = 0;
    let forwardedUnparsed = 0;
    for (const [comma, colon] of separators) {
      for (const usage of usages) {
        for (const finish of finishes) {
          for (const content of contents) {
            for (const shape of choiceShapes) {
              for (const extra of extras) {
                const choice = { index: 0, delta: { content }, finish_reason: finish };
                const choices = shape === 'one' ? [choice] : shape === 'empty' ? [] : shape === 'null' ? null : undefined;
                const value = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices, usage, ...extra };
                const data = serialize(value, comma, colon);
                const expected = parsedForEveryChunk(data, finishReasons);
                const decoder = createCompatibleStreamDecoder({ finishReasons });
                const [event, ...rest] = decoder.push(new TextEncoder().encode(`${data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`));
                expect(rest).toEqual([]);
                if (event?.kind !== 'chunk') throw new Error(`no chunk for ${data}`);
                if (!Object.hasOwn(event, 'chunk')) forwardedUnparsed += 1;
                expect({ chunk: event.chunk, raw: event.raw, usage: decoder.usage() }, data).toEqual(expected);
                cases += 1;
              }
            }
          }
        }
      }
    }
    expect(cases).toBe(3 * 3 * 8 * 6 * 4 * 4);
    // The common case (content, no usage, no finish to map) did skip the parse, in every separator style.
    expect(forwardedUnparsed).toBeGreaterThan(cases / 10);
  });

  it('parses only the chunk that carries usage in a plain OpenAI stream', () => {
    const bytes = fixture('openai-stream-tool-calls.sse');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const decoder = createCompatibleStreamDecoder();
      const events = decode(decoder, bytes, bytes.length);
      expect(parse).toHaveBeenCalledTimes(1);
      expect(decoder.usage()?.outputTokens).toBe(16);
      // Reading a forwarded chunk parses it once and keeps the object.
      const first = events[0];
      if (first?.kind !== 'chunk') throw new Error('expected a chunk');
      expect(first.chunk).toBe(first.chunk);
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
  });

  it('detects an error payload whatever its spacing', () => {
    const decoder = createCompatibleStreamDecoder();
    const events = decode(decoder, new TextEncoder().encode('data: {"id": "a", "choices": [], "error" : {"message": "boom", "type": "server_error"}}\n\n'), 7);
    expect(events).toHaveLength(1);
    expect(events[0]?.kind === 'error' ? events[0].error.message : undefined).toBe('boom');
  });

  it('forwards a chunk whose inside is malformed as sent, and fails with a 502 when it is read', () => {
    const decoder = createCompatibleStreamDecoder();
    const [event] = decoder.push(new TextEncoder().encode('data: {"id":"a","choices":[],,}\n\n'));
    if (event?.kind !== 'chunk') throw new Error('expected a forwarded chunk');
    expect(event.raw).toBe('{"id":"a","choices":[],,}');
    expect(() => event.chunk).toThrow(expect.objectContaining({ status: 502, code: 'upstream_stream_error', message: 'The upstream sent a stream event that is not valid JSON.' }));
  });

  it('parses a last event the body ended in the middle of, even when it ends with a brace', () => {
    const decoder = createCompatibleStreamDecoder();
    expect(decoder.push(new TextEncoder().encode('data: {"id":"a","choices":[{"index":0,"delta":{"content":"x"}}'))).toEqual([]);
    const events = decoder.finish();
    expect(events).toHaveLength(1);
    expect(events[0]?.kind === 'error' ? events[0].error.status : undefined).toBe(502);
  });

  it("names the synthesized usage chunk after the stream's last chunk when the usage chunk does not name itself", () => {
    const decoder = createCompatibleStreamDecoder();
    const text =
      'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":5,"model":"llama","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n' +
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}}\n\n';
    const events = decode(decoder, new TextEncoder().encode(text), 1000);
    const last = events.at(-1);
    expect(last?.kind === 'chunk' ? last.chunk : undefined).toMatchObject({ id: 'chatcmpl-1', created: 5, model: 'llama', choices: [], usage: { total_tokens: 5 } });
  });
});

describe('forwardsUnchanged', () => {
  it.each([
    ['{"choices":[{"delta":{"content":"x"},"finish_reason":null}],"usage":null}', true],
    ['{"choices": [{"delta": {"content": "x"}, "finish_reason": "stop"}], "usage": null}', true],
    ['{"choices":[],"usage":{"prompt_tokens":1}}', false],
    ['{"choices":null}', false],
    ['{"id":"a"}', false],
    ['{"choices":[{"finish_reason":"eos"}]}', false],
    ['{"choices":[],"error":{"message":"x"}}', false],
    ['{"choices":[{"delta":{"content":"\\"usage\\": 1, \\"error\\": 2"}}]}', true],
    ['{"choices":[{"delta":{"content":"error"}}]}', true],
    [' {"choices":[]}', false],
    ['{"choices":[]', false],
  ])('%s → %s', (data, expected) => {
    expect(forwardsUnchanged(data)).toBe(expected);
  });
});
