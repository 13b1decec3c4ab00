/**
 * Pricing: catalog prices, operator pricing structures, cost arithmetic and the token bounds behind
 * worst-case reservations. See README.md in this folder for the data source and how to refresh it.
 */
export type { ModelPrice, PriceTier, EffectiveRates } from './model-price.js';
export { ratesForInputTokens } from './model-price.js';
export type { PriceCatalog, PriceCatalogOptions } from './price-catalog.js';
export { createPriceCatalog, packageProviderFor } from './price-catalog.js';
export type { PricingStructure, PricingStructureEntry } from './pricing-structure.js';
export { globToRegExp, matchesGlob, priceFromStructure } from './pricing-structure.js';
export type { PriceQuery } from './resolve-price.js';
export { resolveModelPrice, requireModelPrice } from './resolve-price.js';
export { costOf, worstCaseCost } from './cost.js';
export type { InputTokenBoundOptions } from './token-bounds.js';
export {
  inputTokenUpperBound,
  maxOutputTokens,
  REQUEST_OVERHEAD_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
  TOOLS_PROMPT_OVERHEAD_TOKENS,
  TOOL_OVERHEAD_TOKENS,
  EMBEDDING_INPUT_OVERHEAD_TOKENS,
} from './token-bounds.js';
export { DEFAULT_MAX_OUTPUT_TOKENS, modelMaximumOutputTokens } from './output-token-limits.js';
