import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeBedrockFrames, type BedrockStreamEvent } from '../../../test/mocks/bedrock-mock.js';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { ProviderContext, StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { createConverseStreamDecoder } from './converse-stream-decoder.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';

const context = { model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', requestId: 'req-7', now: () => 1_700_000_123_000 } as ProviderContext;

function fixtureEvents(name: string): BedrockStreamEvent[] {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as BedrockStreamEvent[];
}

function bytesOf(events: BedrockStreamEvent[]): Uint8Array {
  return Buffer.concat(encodeBedrockFrames(events));
}

/** Feeds the bytes in pieces of `size`, so frames and their preludes are split at every possible offset. */
function decodeAll(decoder: StreamDecoder, bytes: Uint8Array, size: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...decoder.push(bytes.subarray(start, start + size)));
  events.push(...decoder.finish());
  return events;
}

function chunksOf(events: StreamEvent[]): ChatCompletionChunk[] {
  return events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
}

describe('createConverseStreamDecoder', () => {
  it('decodes a text and tool-use stream identically whatever the byte split', () => {
    const bytes = bytesOf(fixtureEvents('converse-stream-tool-use.json'));
    const decoder = createConverseStreamDecoder(context);
    const whole = decodeAll(decoder, bytes, bytes.length);
    for (const size of [1, 3, 13, 97]) expect(decodeAll(createConverseStreamDecoder(context), bytes, size)).toEqual(whole);

    expect(whole.every((event) => event.kind === 'chunk')).toBe(true);
    const chunks = chunksOf(whole);
    const usageChunk = chunks.pop()!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({ prompt_tokens: 475, completion_tokens: 61, total_tokens: 536, prompt_tokens_details: { cached_tokens: 100 } });
    expect(chunks.map((chunk) => chunk.choices[0]!.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Let me look that up' },
      { content: ' for you.' },
      { tool_calls: [{ index: 0, id: 'tooluse_a1', type: 'function', function: { name: 'top_song', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"sign": ' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"WZPZ"}' } }] },
      { tool_calls: [{ index: 1, id: 'tooluse_b2', type: 'function', function: { name: 'weather', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"city":"Paris"}' } }] },
      {},
    ]);
    expect(chunks.map((chunk) => chunk.choices[0]!.finish_reason)).toEqual([null, null, null, null, null, null, null, null, 'tool_calls']);
    expect(new Set(chunks.map((chunk) => `${chunk.id}/${chunk.created}/${chunk.model}`))).toEqual(
      new Set(['chatcmpl-req-7/1700000123/anthropic.claude-3-5-sonnet-20240620-v1:0']),
    );
    expect(decoder.usage()).toEqual({ inputTokens: 475, outputTokens: 61, cachedInputTokens: 100 });
  });

  it('ends with a mapped error at an exception frame and ignores what follows', () => {
    const bytes = bytesOf([
      { type: 'messageStart', payload: { role: 'assistant' } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Partial' } } },
      { type: 'throttlingException', payload: { message: 'Too many tokens, please wait before trying again.' }, messageType: 'exception' },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'ignored' } } },
    ]);
    const events = decodeAll(createConverseStreamDecoder(context), bytes, 11);
    expect(events.map((event) => event.kind)).toEqual(['chunk', 'chunk', 'error']);
    expect(events[2]).toEqual({
      kind: 'error',
      error: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'Too many tokens, please wait before trying again.', param: null },
    });
  });

  it('maps a model stream error to 502', () => {
    const bytes = bytesOf([{ type: 'modelStreamErrorException', payload: { message: 'Model failed', originalStatusCode: 500 }, messageType: 'exception' }]);
    const [event] = decodeAll(createConverseStreamDecoder(context), bytes, bytes.length);
    expect(event?.kind === 'error' && event.error.status).toBe(502);
  });

  it('reports a stream cut inside a frame, or before messageStop, as an error', () => {
    const complete = bytesOf(DEFAULT_TEXT);
    const cut = createConverseStreamDecoder(context);
    const events = [...cut.push(complete.subarray(0, complete.length - 5)), ...cut.finish()];
    expect(events.at(-1)).toMatchObject({ kind: 'error', error: { status: 502, code: 'upstream_stream_error' } });

    const early = createConverseStreamDecoder(context);
    const partial = [...early.push(bytesOf(DEFAULT_TEXT.slice(0, 2))), ...early.finish()];
    expect(partial.map((event) => event.kind)).toEqual(['chunk', 'chunk', 'error']);
    expect(early.usage()).toBeUndefined();
  });

  it('reports a frame whose checksum does not match', () => {
    const bytes = bytesOf(DEFAULT_TEXT);
    bytes[20] = (bytes[20]! + 1) % 256;
    const events = decodeAll(createConverseStreamDecoder(context), bytes, bytes.length);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'error', error: { status: 502 } });
  });

  it('sends the role first even when text arrives without messageStart', () => {
    const bytes = bytesOf([
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hi' } } },
      { type: 'messageStop', payload: { stopReason: 'max_tokens' } },
    ]);
    const chunks = chunksOf(decodeAll(createConverseStreamDecoder(context), bytes, 4));
    expect(chunks.map((chunk) => [chunk.choices[0]!.delta, chunk.choices[0]!.finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'Hi' }, null],
      [{}, 'length'],
    ]);
  });

  it('streams the structured-output tool input as content and finishes with stop', () => {
    const bytes = bytesOf([
      { type: 'messageStart', payload: { role: 'assistant' } },
      { type: 'contentBlockStart', payload: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 't', name: STRUCTURED_OUTPUT_TOOL_NAME } } } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":' } } } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { toolUse: { input: '"Paris"}' } } } },
      { type: 'messageStop', payload: { stopReason: 'tool_use' } },
    ]);
    const chunks = chunksOf(decodeAll(createConverseStreamDecoder(context), bytes, bytes.length));
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? null).join('')).toBe('{"city":"Paris"}');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('counts cache reads and writes of the metadata event into the prompt, reads as cached tokens', () => {
    const bytes = bytesOf([
      { type: 'messageStart', payload: { role: 'assistant' } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hi' } } },
      { type: 'messageStop', payload: { stopReason: 'end_turn' } },
      { type: 'metadata', payload: { usage: { inputTokens: 9, outputTokens: 2, totalTokens: 3083, cacheReadInputTokens: 1024, cacheWriteInputTokens: 2048 } } },
    ]);
    const decoder = createConverseStreamDecoder(context);
    const usageChunk = chunksOf(decodeAll(decoder, bytes, bytes.length)).at(-1)!;
    expect(usageChunk.usage).toEqual({ prompt_tokens: 3081, completion_tokens: 2, total_tokens: 3083, prompt_tokens_details: { cached_tokens: 1024 } });
    expect(decoder.usage()).toEqual({ inputTokens: 3081, outputTokens: 2, cachedInputTokens: 1024, cacheWriteTokens: 2048 });
  });

  it('passes reasoning text as reasoning_content and drops signatures', () => {
    const bytes = bytesOf([
      { type: 'messageStart', payload: { role: 'assistant' } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Thinking...' } } } },
      { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig' } } } },
      { type: 'messageStop', payload: { stopReason: 'end_turn' } },
    ]);
    const deltas = chunksOf(decodeAll(createConverseStreamDecoder(context), bytes, 9)).map((chunk) => chunk.choices[0]!.delta);
    expect(deltas).toEqual([{ role: 'assistant', content: '' }, { reasoning_content: 'Thinking...' }, {}]);
  });
});

const DEFAULT_TEXT: BedrockStreamEvent[] = [
  { type: 'messageStart', payload: { role: 'assistant' } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hello' } } },
  { type: 'messageStop', payload: { stopReason: 'end_turn' } },
  { type: 'metadata', payload: { usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } } },
];
