/**
 * The price of one model, in USD per million tokens, as the metering and the USD limits use it.
 * Both the catalog (src/core/pricing/price-catalog.ts) and pricing structures produce this shape.
 */

/** Rates that replace the base rates for a whole request once its input exceeds a threshold (long-context pricing). */
export interface PriceTier {
  /** The tier applies when the request's input tokens are strictly above this count. */
  aboveInputTokens: number;
  inputPerMillion: number;
  outputPerMillion: number;
  cachedInputPerMillion?: number;
  cacheWritePerMillion?: number;
  cacheWriteLongPerMillion?: number;
}

/** A model's price. Rates are USD per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  /** Rate for prompt tokens read from a cache; the input rate applies when absent. */
  cachedInputPerMillion?: number;
  /** Rate for prompt tokens written to a cache (Anthropic-style); the input rate applies when absent. */
  cacheWritePerMillion?: number;
  /** Rate for cache writes kept for the longer lifetime (Anthropic's one hour); the cache-write rate applies when absent. */
  cacheWriteLongPerMillion?: number;
  /** Higher rates for long prompts, sorted by threshold; absent for flat-priced models. */
  tiers?: readonly PriceTier[];
  /** A flat fee per request in USD (Perplexity's request fee), on top of the token cost. */
  requestPrice?: number;
  source: 'catalog' | 'structure';
}

/** The token rates in effect for one request. */
export interface EffectiveRates {
  inputPerMillion: number;
  outputPerMillion: number;
  cachedInputPerMillion: number;
  cacheWritePerMillion: number;
  cacheWriteLongPerMillion: number;
}

/**
 * The rates that apply to a request with this many input tokens: the base rates, replaced by the last tier
 * whose threshold the input exceeds (tiers apply to the whole request, as the providers bill them).
 * Missing cache rates fall back to the input rate of the same tier (the long cache-write rate to the cache-write rate).
 */
export function ratesForInputTokens(price: ModelPrice, inputTokens: number): EffectiveRates {
  let selected: Omit<PriceTier, 'aboveInputTokens'> = price;
  for (const tier of price.tiers ?? []) {
    if (inputTokens > tier.aboveInputTokens) selected = tier;
  }
  return {
    inputPerMillion: selected.inputPerMillion,
    outputPerMillion: selected.outputPerMillion,
    cachedInputPerMillion: selected.cachedInputPerMillion ?? selected.inputPerMillion,
    cacheWritePerMillion: selected.cacheWritePerMillion ?? selected.inputPerMillion,
    cacheWriteLongPerMillion: selected.cacheWriteLongPerMillion ?? selected.cacheWritePerMillion ?? selected.inputPerMillion,
  };
}
