import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import { readChunk } from './chunk-reading.js';

const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 1, model: 'm' };

describe('readChunk', () => {
  it("reads the first choice's delta and finish reason, and no usage where none was reported", () => {
    const chunk: ChatCompletionChunk = { ...base, choices: [{ index: 1, delta: { content: 'other' }, finish_reason: null }, { index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] };
    expect(readChunk(chunk)).toEqual({ usageReported: false, usage: undefined, delta: { content: 'Hi' }, finishReason: 'stop' });
  });

  it('reads a usage-only chunk as usage and no delta; a report that is not counts as reported but unknown', () => {
    const counted: ChatCompletionChunk = { ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
    expect(readChunk(counted)).toEqual({ usageReported: true, usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 0 }, delta: undefined, finishReason: undefined });
    const garbled = { ...base, choices: [], usage: { prompt_tokens: 'many' } } as unknown as ChatCompletionChunk;
    expect(readChunk(garbled)).toMatchObject({ usageReported: true, usage: undefined, delta: undefined });
  });

  it('reads a first choice without a usable delta as an empty one, and members of the wrong type as absent', () => {
    const odd = { ...base, choices: [{ index: 0, delta: 'text', finish_reason: 7 }] } as unknown as ChatCompletionChunk;
    expect(readChunk(odd)).toEqual({ usageReported: false, usage: undefined, delta: {}, finishReason: undefined });
    expect(readChunk({ ...base, choices: 'none' } as unknown as ChatCompletionChunk).delta).toBeUndefined();
  });
});
