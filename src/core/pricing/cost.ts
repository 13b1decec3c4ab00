/**
 * Token usage to USD. `costOf` settles a finished request; `worstCaseCost` is what a USD-limited key
 * reserves before sending it. The two are built so that the reservation always covers the settlement:
 * for usage with at most `inputTokens` input and `maxOutputTokens` output tokens,
 * `costOf(usage, price) <= worstCaseCost(inputTokens, maxOutputTokens, price)`.
 */
import type { TokenUsage } from '../../spec/usage.js';
import { ratesForInputTokens, type ModelPrice } from './model-price.js';

const TOKENS_PER_MILLION = 1_000_000;

/**
 * The USD cost of one request's usage: cached tokens at the cached rate, cache writes at the cache-write rate
 * (the input rate when the price has none; those kept for the longer lifetime at its own rate, where given), the remaining input tokens at the input rate, output at the output
 * rate, plus the price's per-request fee. Long-context tiers are chosen by the request's total input tokens.
 */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  const inputTokens = nonNegative(usage.inputTokens);
  const outputTokens = nonNegative(usage.outputTokens);
  // Cached and written tokens are parts of inputTokens; clamping keeps a provider's inconsistent report
  // (parts larger than the whole) from producing a negative uncached count.
  const cachedTokens = Math.min(nonNegative(usage.cachedInputTokens), inputTokens);
  const cacheWriteTokens = Math.min(nonNegative(usage.cacheWriteTokens ?? 0), inputTokens - cachedTokens);
  const cacheWriteLongTokens = Math.min(nonNegative(usage.cacheWriteLongTokens ?? 0), cacheWriteTokens);
  const uncachedTokens = inputTokens - cachedTokens - cacheWriteTokens;
  const rates = ratesForInputTokens(price, inputTokens);
  const tokenCost =
    uncachedTokens * rates.inputPerMillion +
    cachedTokens * rates.cachedInputPerMillion +
    (cacheWriteTokens - cacheWriteLongTokens) * rates.cacheWritePerMillion +
    cacheWriteLongTokens * rates.cacheWriteLongPerMillion +
    outputTokens * rates.outputPerMillion;
  return tokenCost / TOKENS_PER_MILLION + (price.requestPrice ?? 0);
}

/**
 * The most a request can cost when its input is at most `inputTokens` and its output at most
 * `maxOutputTokens`: every input token at the highest input-side rate (plain, cached or cache write, since
 * the split is unknown before the reply) and the output at the output rate, both taken from the most
 * expensive tier the input could reach, plus the per-request fee.
 */
export function worstCaseCost(inputTokens: number, maxOutputTokens: number, price: ModelPrice): number {
  const input = nonNegative(inputTokens);
  const output = nonNegative(maxOutputTokens);
  // Any tier at or below the bound may be the one the real (smaller or equal) input lands in, so take the
  // maximum over all of them rather than the tier of the bound alone; this stays correct even for a tier
  // list whose later rates are lower.
  let highestInputRate = highestInputSideRate(price);
  let highestOutputRate = price.outputPerMillion;
  for (const tier of price.tiers ?? []) {
    if (input > tier.aboveInputTokens) {
      highestInputRate = Math.max(highestInputRate, highestInputSideRate(tier));
      highestOutputRate = Math.max(highestOutputRate, tier.outputPerMillion);
    }
  }
  return (input * highestInputRate + output * highestOutputRate) / TOKENS_PER_MILLION + (price.requestPrice ?? 0);
}

function highestInputSideRate(rates: {
  inputPerMillion: number;
  cachedInputPerMillion?: number;
  cacheWritePerMillion?: number;
  cacheWriteLongPerMillion?: number;
}): number {
  return Math.max(rates.inputPerMillion, rates.cachedInputPerMillion ?? 0, rates.cacheWritePerMillion ?? 0, rates.cacheWriteLongPerMillion ?? 0);
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
