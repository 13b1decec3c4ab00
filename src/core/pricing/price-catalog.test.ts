import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { costOf } from './cost.js';
import { createPriceCatalog, packageProviderFor } from './price-catalog.js';
import type { TokenUsage } from '../../spec/usage.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const catalog = createPriceCatalog({ now: () => NOW });

/**
 * What the package itself charges for the usage: the reference every catalog price is checked against, so
 * that no price is typed into these tests.
 */
function packageCost(providerId: string, model: string, usage: TokenUsage, at = NOW): number {
  const result = calcPrice(
    {
      input_tokens: usage.inputTokens,
      cache_read_tokens: usage.cachedInputTokens,
      cache_write_tokens: usage.cacheWriteTokens ?? 0,
      ...(usage.cacheWriteLongTokens === undefined ? {} : { cache_write_1h_tokens: usage.cacheWriteLongTokens }),
      output_tokens: usage.outputTokens,
    },
    model,
    { providerId, timestamp: new Date(at) },
  );
  if (result === null) throw new Error(`the package has no price for ${providerId}/${model}`);
  return result.total_price;
}

const plainUsage: TokenUsage = { inputTokens: 12_345, outputTokens: 6_789, cachedInputTokens: 0 };
const cachedUsage: TokenUsage = { inputTokens: 50_000, outputTokens: 2_000, cachedInputTokens: 30_000 };

describe('createPriceCatalog', () => {
  it.each([
    ['openai', 'gpt-4o', 'openai'],
    ['openai', 'gpt-4o-mini', 'openai'],
    ['openai', 'gpt-4o-2024-08-06', 'openai'],
    ['anthropic', 'claude-sonnet-4-5-20250929', 'anthropic'],
    ['anthropic', 'claude-3-5-haiku-20241022', 'anthropic'],
    ['gemini', 'gemini-2.5-flash', 'google'],
    ['gemini', 'gemini-2.0-flash-001', 'google'],
    ['mistral', 'mistral-large-latest', 'mistral'],
    ['groq', 'llama-3.3-70b-versatile', 'groq'],
    ['cohere', 'command-r-plus', 'cohere'],
    ['deepseek', 'deepseek-chat', 'deepseek'],
    ['together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'together'],
    ['openrouter', 'anthropic/claude-3.5-sonnet', 'openrouter'],
    ['xai', 'grok-3-mini', 'x-ai'],
    ['cerebras', 'llama3.1-8b', 'cerebras'],
    ['perplexity', 'sonar', 'perplexity'],
  ])('prices %s %s as the package does', (provider, model, packageProvider) => {
    const price = catalog.priceFor(provider, model);
    expect(price?.source).toBe('catalog');
    for (const usage of [plainUsage, cachedUsage]) {
      expect(costOf(usage, price!)).toBeCloseTo(packageCost(packageProvider, model, usage), 12);
    }
  });

  it('reads the package rates per million tokens, cached rate included', () => {
    const price = catalog.priceFor('openai', 'gpt-4o')!;
    const million = 1_000_000;
    expect(price.inputPerMillion).toBeCloseTo(packageCost('openai', 'gpt-4o', { inputTokens: million, outputTokens: 0, cachedInputTokens: 0 }), 12);
    expect(price.outputPerMillion).toBeCloseTo(packageCost('openai', 'gpt-4o', { inputTokens: 0, outputTokens: million, cachedInputTokens: 0 }), 12);
    expect(price.cachedInputPerMillion).toBeCloseTo(
      packageCost('openai', 'gpt-4o', { inputTokens: million, outputTokens: 0, cachedInputTokens: million }),
      12,
    );
    expect(price.cachedInputPerMillion).toBeLessThan(price.inputPerMillion);
  });

  it('applies long-context tiers and cache writes like the package', () => {
    const model = 'claude-sonnet-4-5-20250929';
    const price = catalog.priceFor('anthropic', model)!;
    expect(price.tiers?.length).toBeGreaterThan(0);
    expect(price.cacheWritePerMillion).toBeGreaterThan(price.inputPerMillion);
    const threshold = price.tiers![0]!.aboveInputTokens;
    for (const inputTokens of [threshold - 1, threshold, threshold + 1, threshold * 2]) {
      const usage: TokenUsage = { inputTokens, outputTokens: 1_000, cachedInputTokens: 10_000, cacheWriteTokens: 5_000 };
      expect(costOf(usage, price)).toBeCloseTo(packageCost('anthropic', model, usage), 12);
    }
  });

  it("prices cache writes kept an hour at their own rate, like the package, and at the cache-write rate where there is none", () => {
    for (const [provider, model] of [
      ['anthropic', 'claude-sonnet-4-5-20250929'],
      ['anthropic', 'claude-opus-4-1-20250805'],
    ] as const) {
      const price = catalog.priceFor(provider, model)!;
      expect(price.cacheWriteLongPerMillion).toBeGreaterThan(price.cacheWritePerMillion!);
      const usage: TokenUsage = { inputTokens: 60_000, outputTokens: 1_000, cachedInputTokens: 10_000, cacheWriteTokens: 30_000, cacheWriteLongTokens: 20_000 };
      expect(costOf(usage, price)).toBeCloseTo(packageCost(provider, model, usage), 12);
      expect(costOf(usage, price)).toBeGreaterThan(costOf({ ...usage, cacheWriteLongTokens: undefined }, price));
    }
    const noLongRate = catalog.priceFor('openai', 'gpt-4o')!;
    expect(noLongRate.cacheWriteLongPerMillion).toBeUndefined();
  });

  it('prices Azure models like the package prices Azure (OpenAI rates for OpenAI models)', () => {
    const azure = catalog.priceFor('azure', 'gpt-4o')!;
    expect(costOf(plainUsage, azure)).toBeCloseTo(packageCost('azure', 'gpt-4o', plainUsage), 12);
    expect(costOf(plainUsage, azure)).toBeCloseTo(packageCost('openai', 'gpt-4o', plainUsage), 12);
  });

  it('prices Vertex Claude like Anthropic and Vertex Gemini like Google', () => {
    const claude = catalog.priceFor('vertex', 'claude-sonnet-4-5@20250929')!;
    expect(costOf(cachedUsage, claude)).toBeCloseTo(packageCost('anthropic', 'claude-sonnet-4-5-20250929', cachedUsage), 12);
    const gemini = catalog.priceFor('vertex', 'gemini-2.5-flash')!;
    expect(costOf(cachedUsage, gemini)).toBeCloseTo(packageCost('google', 'gemini-2.5-flash', cachedUsage), 12);
    expect(catalog.priceFor('gemini', 'models/gemini-2.5-flash')).toEqual(gemini);
  });

  it('resolves Bedrock model ids, inference profiles and ARNs', () => {
    const reference = packageCost('aws', 'anthropic.claude-3-5-sonnet-20240620-v1:0', plainUsage);
    for (const model of [
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'us.anthropic.claude-3-5-sonnet-20240620-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0',
    ]) {
      expect(costOf(plainUsage, catalog.priceFor('bedrock', model)!)).toBeCloseTo(reference, 12);
    }
    const llama = catalog.priceFor('bedrock', 'meta.llama3-3-70b-instruct-v1:0')!;
    expect(costOf(plainUsage, llama)).toBeCloseTo(packageCost('aws', 'meta.llama3-3-70b-instruct-v1:0', plainUsage), 12);
  });

  it("falls back to Anthropic's prices for Bedrock Claude ids the AWS table lacks", () => {
    expect(calcPrice({}, 'anthropic.claude-v2:1', { providerId: 'aws' })).toBeNull();
    const price = catalog.priceFor('bedrock', 'anthropic.claude-v2:1')!;
    expect(costOf(plainUsage, price)).toBeCloseTo(packageCost('anthropic', 'claude-v2:1', plainUsage), 12);
  });

  it('charges the per-request fee the package lists', () => {
    const price = catalog.priceFor('perplexity', 'sonar')!;
    expect(price.requestPrice).toBeGreaterThan(0);
    const empty: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    expect(costOf(empty, price)).toBeCloseTo(packageCost('perplexity', 'sonar', empty), 12);
  });

  it('gives embedding models a zero output rate', () => {
    const price = catalog.priceFor('openai', 'text-embedding-3-small')!;
    expect(price.outputPerMillion).toBe(0);
    expect(price.inputPerMillion).toBeGreaterThan(0);
  });

  it('returns undefined for unknown models, unpriced providers and models not priced by the token', () => {
    expect(catalog.priceFor('openai', 'no-such-model-anywhere')).toBeUndefined();
    expect(catalog.priceFor('vllm', 'gpt-4o')).toBeUndefined();
    expect(catalog.priceFor('ollama', 'llama3')).toBeUndefined();
    expect(catalog.priceFor('bedrock', 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123')).toBeUndefined();
    expect(calcPrice({}, 'whisper-1', { providerId: 'openai' })).not.toBeNull();
    expect(catalog.priceFor('openai', 'whisper-1')).toBeUndefined();
  });

  it('maps adapter types to package providers and refuses fuzzy provider matches', () => {
    expect(packageProviderFor('bedrock')).toBe('aws');
    expect(packageProviderFor('vertex')).toBe('google');
    expect(packageProviderFor('xai')).toBe('x-ai');
    expect(packageProviderFor('novita')).toBe('novita');
    // `vertex-proxy` contains "vertex", which the package's own provider matching would accept.
    expect(packageProviderFor('vertex-proxy')).toBeUndefined();
    expect(packageProviderFor('vllm')).toBeUndefined();
  });

  it('chooses dated prices by the clock, as the package does', () => {
    const before = Date.parse('2025-01-01T00:00:00Z');
    const after = Date.parse('2025-07-01T00:00:00Z');
    const early = createPriceCatalog({ now: () => before }).priceFor('openai', 'o3')!;
    const late = createPriceCatalog({ now: () => after }).priceFor('openai', 'o3')!;
    expect(early.inputPerMillion).not.toBe(late.inputPerMillion);
    expect(costOf(plainUsage, early)).toBeCloseTo(packageCost('openai', 'o3', plainUsage, before), 12);
    expect(costOf(plainUsage, late)).toBeCloseTo(packageCost('openai', 'o3', plainUsage, after), 12);
  });

  it("follows DeepSeek's off-peak hours on one catalog as its clock moves", () => {
    let now = Date.parse('2026-03-01T02:00:00Z');
    const moving = createPriceCatalog({ now: () => now });
    const peak = moving.priceFor('deepseek', 'deepseek-chat')!;
    expect(costOf(plainUsage, peak)).toBeCloseTo(packageCost('deepseek', 'deepseek-chat', plainUsage, now), 12);
    now = Date.parse('2026-03-01T20:00:00Z');
    const offPeak = moving.priceFor('deepseek', 'deepseek-chat')!;
    expect(costOf(plainUsage, offPeak)).toBeCloseTo(packageCost('deepseek', 'deepseek-chat', plainUsage, now), 12);
    expect(offPeak.inputPerMillion).toBeLessThan(peak.inputPerMillion);
  });

  it('memoises look-ups and bounds the memo', () => {
    const small = createPriceCatalog({ now: () => NOW, maxMemoisedModels: 2 });
    const first = small.priceFor('openai', 'gpt-4o');
    expect(small.priceFor('openai', 'gpt-4o')).toBe(first);
    small.priceFor('openai', 'gpt-4o-mini');
    small.priceFor('anthropic', 'claude-3-5-haiku-20241022');
    // gpt-4o was evicted, so it is converted again into a new (equal) object.
    const again = small.priceFor('openai', 'gpt-4o');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
