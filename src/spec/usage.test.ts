import { describe, expect, it } from 'vitest';
import { fromOpenAIUsage, MAX_TOKEN_COUNT, readTokenCounts, trustedUsage } from './usage.js';

describe('readTokenCounts', () => {
  it('reads counts, absent and null members as 0', () => {
    expect(readTokenCounts({ input: 3, output: null }, ['input', 'output', 'cached'])).toEqual({ input: 3, output: 0, cached: 0 });
    expect(readTokenCounts(undefined, ['input'])).toEqual({ input: 0 });
  });

  it('distrusts the whole report when one member is not a count', () => {
    for (const value of [-1, 1.5, Number.POSITIVE_INFINITY, Number.NaN, '12', {}, [], true, MAX_TOKEN_COUNT + 1, 2 ** 53 + 2]) {
      expect(readTokenCounts({ input: 3, output: value }, ['input', 'output']), String(value)).toBeUndefined();
    }
  });
});

describe('trustedUsage', () => {
  it('keeps usage whose counts are whole and not negative, and refuses the rest', () => {
    const usage = { inputTokens: 10, outputTokens: 2, cachedInputTokens: 4, cacheWriteTokens: 1, reasoningTokens: 0 };
    expect(trustedUsage(usage)).toBe(usage);
    expect(trustedUsage(undefined)).toBeUndefined();
    expect(trustedUsage({ ...usage, outputTokens: -2 })).toBeUndefined();
    expect(trustedUsage({ ...usage, inputTokens: Number.NaN })).toBeUndefined();
    expect(trustedUsage({ ...usage, cacheWriteTokens: 1e300 })).toBeUndefined();
  });
});

describe('fromOpenAIUsage', () => {
  it('reads the standard object and DeepSeek cache hits as before', () => {
    expect(fromOpenAIUsage({ prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 1 }, completion_tokens_details: { reasoning_tokens: 1 } })).toEqual({
      inputTokens: 5,
      outputTokens: 2,
      cachedInputTokens: 1,
      reasoningTokens: 1,
    });
    expect(fromOpenAIUsage({ prompt_tokens: 5, completion_tokens: 2, prompt_cache_hit_tokens: 3 })).toEqual({ inputTokens: 5, outputTokens: 2, cachedInputTokens: 3 });
    expect(fromOpenAIUsage({ prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: null })).toEqual({ inputTokens: 5, outputTokens: 2, cachedInputTokens: 0 });
  });

  it('reads no usage from a report whose counts are not counts', () => {
    expect(fromOpenAIUsage({ prompt_tokens: -5, completion_tokens: 2 })).toBeUndefined();
    expect(fromOpenAIUsage({ prompt_tokens: '5', completion_tokens: 2 })).toBeUndefined();
    expect(fromOpenAIUsage({ prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 1e300 } })).toBeUndefined();
    expect(fromOpenAIUsage([5, 2])).toBeUndefined();
  });
});
