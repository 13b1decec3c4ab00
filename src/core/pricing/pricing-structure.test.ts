import { describe, expect, it } from 'vitest';
import { costOf } from './cost.js';
import { createPriceCatalog } from './price-catalog.js';
import { globToRegExp, matchesGlob, priceFromStructure, type PricingStructure } from './pricing-structure.js';
import { requireModelPrice, resolveModelPrice } from './resolve-price.js';
import { isGatewayError } from '../../spec/errors.js';

const structure: PricingStructure = {
  id: 'negotiated',
  name: 'Negotiated rates',
  entries: [
    { model: 'gpt-4o-mini', input_per_million: 0.1, output_per_million: 0.4, cached_input_per_million: 0.05 },
    { model: 'gpt-4o*', input_per_million: 2, output_per_million: 8 },
    { model: 'meta-llama/*-70B-*', input_per_million: 0.5, output_per_million: 0.6, cached_input_per_million: null },
    { model: '*', input_per_million: 9, output_per_million: 9 },
  ],
};

describe('matchesGlob', () => {
  it.each([
    ['gpt-4o*', 'gpt-4o', true],
    ['gpt-4o*', 'gpt-4o-2024-08-06', true],
    ['gpt-4o*', 'xgpt-4o', false],
    ['*-mini', 'o4-mini', true],
    ['*-mini', 'o4-mini-high', false],
    ['claude-*-sonnet-*', 'claude-3-5-sonnet-20241022', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['*', '', true],
    ['*', 'anything/at all', true],
    ['', '', true],
    ['', 'x', false],
  ])('%s against %s is %s', (glob, model, expected) => {
    expect(matchesGlob(glob, model)).toBe(expected);
  });

  it('matches the whole name only', () => {
    expect(matchesGlob('gpt-4', 'gpt-4o')).toBe(false);
    expect(matchesGlob('4o', 'gpt-4o')).toBe(false);
  });

  it('treats every character but * literally', () => {
    expect(matchesGlob('gpt-4.1', 'gpt-4x1')).toBe(false);
    expect(matchesGlob('gpt-4.1', 'gpt-4.1')).toBe(true);
    expect(matchesGlob('model?', 'models')).toBe(false);
    expect(matchesGlob('model?', 'model?')).toBe(true);
    expect(matchesGlob('a+b[c](d){1}|e^$\\', 'a+b[c](d){1}|e^$\\')).toBe(true);
    expect(matchesGlob('a+b', 'aab')).toBe(false);
  });

  it('ignores case', () => {
    expect(matchesGlob('meta-llama/Llama-3.3-70B*', 'META-LLAMA/llama-3.3-70b-instruct')).toBe(true);
    expect(globToRegExp('GPT-4O').test('gpt-4o')).toBe(true);
  });
});

describe('priceFromStructure', () => {
  it('uses the first matching entry', () => {
    expect(priceFromStructure(structure, 'gpt-4o-mini')).toMatchObject({ inputPerMillion: 0.1, outputPerMillion: 0.4 });
    expect(priceFromStructure(structure, 'gpt-4o-2024-08-06')).toMatchObject({ inputPerMillion: 2, outputPerMillion: 8 });
    // `gpt-4o*` also matches gpt-4o-mini-2024-07-18, and precedes the catch-all.
    expect(priceFromStructure(structure, 'gpt-4o-mini-2024-07-18')).toMatchObject({ inputPerMillion: 2 });
    expect(priceFromStructure(structure, 'claude-3-opus')).toMatchObject({ inputPerMillion: 9, outputPerMillion: 9 });
  });

  it('marks the price as coming from a structure', () => {
    expect(priceFromStructure(structure, 'gpt-4o')?.source).toBe('structure');
  });

  it('keeps an explicit cached rate and falls back to the input rate when it is missing or null', () => {
    expect(priceFromStructure(structure, 'gpt-4o-mini')?.cachedInputPerMillion).toBe(0.05);
    expect(priceFromStructure(structure, 'gpt-4o')?.cachedInputPerMillion).toBe(2);
    expect(priceFromStructure(structure, 'meta-llama/Llama-3.3-70B-Instruct')?.cachedInputPerMillion).toBe(0.5);
  });

  it('prices cache writes at the rates an entry gives, else at the input rate, and the longer lifetime at the cache-write rate', () => {
    const claude: PricingStructure = {
      id: 'c',
      name: 'Claude contract',
      entries: [
        { model: 'claude-opus-*', input_per_million: 5, output_per_million: 25, cache_write_per_million: 6.25 },
        { model: 'claude-*', input_per_million: 3, output_per_million: 15, cache_write_per_million: 3.75, cache_write_long_per_million: 6 },
        { model: '*', input_per_million: 1, output_per_million: 1, cache_write_per_million: null },
      ],
    };
    const usage = { inputTokens: 1_000, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 600, cacheWriteLongTokens: 200 };
    expect(costOf(usage, priceFromStructure(claude, 'claude-sonnet-4-5')!)).toBeCloseTo((400 * 3 + 400 * 3.75 + 200 * 6) / 1e6, 15);
    expect(costOf(usage, priceFromStructure(claude, 'claude-opus-4-5')!)).toBeCloseTo((400 * 5 + 600 * 6.25) / 1e6, 15);
    expect(costOf(usage, priceFromStructure(claude, 'other')!)).toBeCloseTo(1_000 / 1e6, 15);
  });

  it('returns undefined when no entry matches', () => {
    const narrow: PricingStructure = { id: 'n', name: 'Narrow', entries: [{ model: 'gpt-4o', input_per_million: 1, output_per_million: 1 }] };
    expect(priceFromStructure(narrow, 'gpt-4o-mini')).toBeUndefined();
    expect(priceFromStructure({ id: 'e', name: 'Empty', entries: [] }, 'gpt-4o')).toBeUndefined();
  });

  it('sees a replaced structure object', () => {
    const first: PricingStructure = { id: 's', name: 'S', entries: [{ model: '*', input_per_million: 1, output_per_million: 1 }] };
    expect(priceFromStructure(first, 'm')?.inputPerMillion).toBe(1);
    const second: PricingStructure = { ...first, entries: [{ model: '*', input_per_million: 2, output_per_million: 2 }] };
    expect(priceFromStructure(second, 'm')?.inputPerMillion).toBe(2);
  });
});

describe('resolveModelPrice and requireModelPrice', () => {
  const catalog = createPriceCatalog({ now: () => Date.parse('2026-03-01T12:00:00Z') });
  const gpt4oOnly: PricingStructure = { id: 'g', name: 'G', entries: [{ model: 'gpt-4o', input_per_million: 1, output_per_million: 2 }] };

  it('prefers the structure, then the catalog', () => {
    expect(resolveModelPrice(catalog, { provider: 'openai', model: 'gpt-4o', structure: gpt4oOnly })?.source).toBe('structure');
    const mini = resolveModelPrice(catalog, { provider: 'openai', model: 'gpt-4o-mini', structure: gpt4oOnly });
    expect(mini).toEqual(catalog.priceFor('openai', 'gpt-4o-mini'));
    expect(resolveModelPrice(catalog, { provider: 'openai', model: 'gpt-4o' })?.source).toBe('catalog');
  });

  it('prices a self-hosted model only through a structure', () => {
    expect(resolveModelPrice(catalog, { provider: 'vllm', model: 'my-model' })).toBeUndefined();
    const custom: PricingStructure = { id: 'c', name: 'C', entries: [{ model: 'my-*', input_per_million: 0.2, output_per_million: 0.3 }] };
    expect(resolveModelPrice(catalog, { provider: 'vllm', model: 'my-model', structure: custom })?.inputPerMillion).toBe(0.2);
  });

  it('rejects a model without a known price with a 400', () => {
    let thrown: unknown;
    try {
      requireModelPrice(catalog, { provider: 'vllm', model: 'my-model' });
    } catch (error) {
      thrown = error;
    }
    expect(isGatewayError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ status: 400, code: 'model_price_unknown', param: 'model', model: 'my-model' });
    expect(requireModelPrice(catalog, { provider: 'openai', model: 'gpt-4o' }).source).toBe('catalog');
  });
});
