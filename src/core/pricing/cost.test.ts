import { describe, expect, it } from 'vitest';
import { costOf, worstCaseCost } from './cost.js';
import type { ModelPrice } from './model-price.js';
import { createPriceCatalog } from './price-catalog.js';
import type { TokenUsage } from '../../spec/usage.js';

const flat: ModelPrice = { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5, source: 'structure' };
const withCacheWrites: ModelPrice = {
  inputPerMillion: 3,
  outputPerMillion: 15,
  cachedInputPerMillion: 0.3,
  cacheWritePerMillion: 3.75,
  source: 'catalog',
};
const tiered: ModelPrice = {
  inputPerMillion: 3,
  outputPerMillion: 15,
  cachedInputPerMillion: 0.3,
  cacheWritePerMillion: 3.75,
  tiers: [{ aboveInputTokens: 200_000, inputPerMillion: 6, outputPerMillion: 22.5, cachedInputPerMillion: 0.6, cacheWritePerMillion: 7.5 }],
  source: 'catalog',
};

function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, cacheWriteTokens?: number): TokenUsage {
  return cacheWriteTokens === undefined
    ? { inputTokens, outputTokens, cachedInputTokens }
    : { inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens };
}

describe('costOf', () => {
  it('charges input and output at their rates', () => {
    expect(costOf(usage(1_000_000, 0), flat)).toBeCloseTo(2, 12);
    expect(costOf(usage(0, 1_000_000), flat)).toBeCloseTo(8, 12);
    expect(costOf(usage(1_000, 500), flat)).toBeCloseTo((1_000 * 2 + 500 * 8) / 1e6, 15);
  });

  it('charges cached tokens at the cached rate and the rest of the input at the input rate', () => {
    expect(costOf(usage(1_000, 0, 400), flat)).toBeCloseTo((600 * 2 + 400 * 0.5) / 1e6, 15);
  });

  it('charges cached tokens at the input rate when the price has no cached rate', () => {
    const noCache: ModelPrice = { inputPerMillion: 2, outputPerMillion: 8, source: 'catalog' };
    expect(costOf(usage(1_000, 0, 400), noCache)).toBeCloseTo(costOf(usage(1_000, 0), noCache), 15);
  });

  it('charges cache writes at their rate, or at the input rate when unknown', () => {
    expect(costOf(usage(1_000, 0, 100, 300), withCacheWrites)).toBeCloseTo((600 * 3 + 100 * 0.3 + 300 * 3.75) / 1e6, 15);
    expect(costOf(usage(1_000, 0, 100, 300), flat)).toBeCloseTo((900 * 2 + 100 * 0.5) / 1e6, 15);
  });

  it('charges cache writes kept for the longer lifetime at their rate, the cache-write rate when unknown, never more of them than were written', () => {
    const longRate: ModelPrice = { ...withCacheWrites, cacheWriteLongPerMillion: 6 };
    const long = { ...usage(1_000, 0, 100, 300), cacheWriteLongTokens: 200 };
    expect(costOf(long, longRate)).toBeCloseTo((600 * 3 + 100 * 0.3 + 100 * 3.75 + 200 * 6) / 1e6, 15);
    expect(costOf(long, withCacheWrites)).toBeCloseTo(costOf(usage(1_000, 0, 100, 300), withCacheWrites), 15);
    expect(costOf({ ...long, cacheWriteLongTokens: 5_000 }, longRate)).toBeCloseTo((600 * 3 + 100 * 0.3 + 300 * 6) / 1e6, 15);
  });

  it('applies a tier to the whole request once the input exceeds its threshold', () => {
    expect(costOf(usage(200_000, 1_000), tiered)).toBeCloseTo((200_000 * 3 + 1_000 * 15) / 1e6, 12);
    expect(costOf(usage(200_001, 1_000), tiered)).toBeCloseTo((200_001 * 6 + 1_000 * 22.5) / 1e6, 12);
    expect(costOf(usage(300_000, 0, 100_000, 50_000), tiered)).toBeCloseTo((150_000 * 6 + 100_000 * 0.6 + 50_000 * 7.5) / 1e6, 12);
  });

  it('adds the per-request fee', () => {
    const fee: ModelPrice = { ...flat, requestPrice: 0.005 };
    expect(costOf(usage(0, 0), fee)).toBeCloseTo(0.005, 15);
    expect(costOf(usage(1_000, 0), fee)).toBeCloseTo(0.005 + 0.002, 15);
  });

  it('never goes negative on inconsistent or invalid usage', () => {
    // More cached tokens than input tokens: everything counts as cached, nothing as uncached.
    expect(costOf(usage(100, 0, 500), flat)).toBeCloseTo((100 * 0.5) / 1e6, 15);
    expect(costOf(usage(-5, Number.NaN, -1), flat)).toBe(0);
  });
});

describe('worstCaseCost', () => {
  it('charges all input at the highest input-side rate and the output cap at the output rate', () => {
    expect(worstCaseCost(1_000, 500, flat)).toBeCloseTo((1_000 * 2 + 500 * 8) / 1e6, 15);
    // Cache writes cost more than plain input, and the split is unknown before the reply.
    expect(worstCaseCost(1_000, 500, withCacheWrites)).toBeCloseTo((1_000 * 3.75 + 500 * 15) / 1e6, 15);
  });

  it('uses the tier the input bound reaches', () => {
    expect(worstCaseCost(200_000, 1_000, tiered)).toBeCloseTo((200_000 * 3.75 + 1_000 * 15) / 1e6, 12);
    expect(worstCaseCost(250_000, 1_000, tiered)).toBeCloseTo((250_000 * 7.5 + 1_000 * 22.5) / 1e6, 12);
  });

  it('covers every usage within the bounds (seeded random check, real catalog prices included)', () => {
    const catalog = createPriceCatalog({ now: () => Date.parse('2026-03-01T12:00:00Z') });
    const prices = [
      flat,
      withCacheWrites,
      tiered,
      { ...tiered, tiers: [{ aboveInputTokens: 1_000, inputPerMillion: 1, outputPerMillion: 1 }] } satisfies ModelPrice,
      catalog.priceFor('anthropic', 'claude-sonnet-4-5-20250929')!,
      { ...withCacheWrites, cacheWriteLongPerMillion: 6 } satisfies ModelPrice,
      catalog.priceFor('openai', 'gpt-5.4')!,
      catalog.priceFor('perplexity', 'sonar')!,
    ];
    let seed = 42;
    const random = (limit: number): number => {
      // A linear congruential generator: deterministic, so a failure reproduces.
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * (limit + 1));
    };
    for (const price of prices) {
      for (let trial = 0; trial < 500; trial += 1) {
        const inputBound = random(400_000);
        const outputBound = random(64_000);
        const inputTokens = random(inputBound);
        const cachedInputTokens = random(inputTokens);
        const cacheWriteTokens = random(inputTokens - cachedInputTokens);
        const actual = { ...usage(inputTokens, random(outputBound), cachedInputTokens, cacheWriteTokens), cacheWriteLongTokens: random(cacheWriteTokens) };
        expect(costOf(actual, price)).toBeLessThanOrEqual(worstCaseCost(inputBound, outputBound, price) + 1e-12);
      }
    }
  });
});
