/**
 * The price a request is metered at: the serving provider key's pricing structure when one of its entries
 * matches the model, else the catalog's price.
 */
import { errors } from '../../spec/errors.js';
import type { ModelPrice } from './model-price.js';
import type { PriceCatalog } from './price-catalog.js';
import { priceFromStructure, type PricingStructure } from './pricing-structure.js';

export interface PriceQuery {
  /** The adapter type serving the request (`openai`, `bedrock`, ...). */
  provider: string;
  /** The model as sent upstream, without the provider prefix. */
  model: string;
  /** The structure named by the serving provider key's `customPricingStructureId`, if any. */
  structure?: PricingStructure | undefined;
}

/** The structure's price when an entry matches, else the catalog's; undefined when neither knows the model. */
export function resolveModelPrice(catalog: PriceCatalog, query: PriceQuery): ModelPrice | undefined {
  if (query.structure !== undefined) {
    const fromStructure = priceFromStructure(query.structure, query.model);
    if (fromStructure !== undefined) return fromStructure;
  }
  return catalog.priceFor(query.provider, query.model);
}

/**
 * Like `resolveModelPrice`, for keys with a USD limit, which may only call models with a known price:
 * throws a 400 `model_price_unknown` otherwise, naming the model but no key or structure internals.
 */
export function requireModelPrice(catalog: PriceCatalog, query: PriceQuery): ModelPrice {
  const price = resolveModelPrice(catalog, query);
  if (price === undefined) {
    throw errors.badRequest(
      `The model '${query.model}' has no known price, and this API key has a USD limit. ` +
        'Add the model to a pricing structure assigned to the provider key, or use a key without a USD limit.',
      { code: 'model_price_unknown', param: 'model', provider: query.provider, model: query.model },
    );
  }
  return price;
}
