/**
 * Pricing structures: operator-defined prices that override the catalog for the requests served by a
 * provider key whose `customPricingStructureId` names the structure.
 *
 * Each entry's `model` is a glob matched against the model name as sent upstream, without the provider
 * prefix. Only `*` is special (any run of characters, `/` and `.` included, possibly empty); every other
 * character is literal and the glob must match the whole name. Matching ignores case, like the catalog's
 * own matching and because providers treat model names case-insensitively in practice
 * (`meta-llama/Llama-3.3-70B` and `meta-llama/llama-3.3-70b` name the same model).
 * The first matching entry wins, so specific entries go before catch-alls such as `*`.
 */
import type { ModelPrice } from './model-price.js';

/** One row of a pricing structure; rates are USD per million tokens. */
export interface PricingStructureEntry {
  /** Glob over the upstream model name (`*` wildcard only). */
  model: string;
  input_per_million: number;
  output_per_million: number;
  /** Rate for cached prompt tokens; the input rate applies when absent. */
  cached_input_per_million?: number | null;
  /** Rate for prompt tokens written to a cache; the input rate applies when absent. */
  cache_write_per_million?: number | null;
  /** Rate for cache writes kept for the longer lifetime; the cache-write rate applies when absent. */
  cache_write_long_per_million?: number | null;
}

/** A named set of prices, referenced by provider keys through `customPricingStructureId`. */
export interface PricingStructure {
  id: string;
  name: string;
  entries: PricingStructureEntry[];
}

/**
 * Compiles a `*` glob into an anchored, case-insensitive regular expression that runs in time linear in the glob's
 * literal parts. Joining the literals with `.*` would backtrack exponentially on a glob such as `a*a*a*...b` and a
 * model name that almost matches it (both chosen by clients), blocking the process. Instead each literal between two
 * stars is matched at its first occurrence, and that choice is made final: a lookahead finds it and a
 * backreference consumes it, and JavaScript never backtracks into a lookahead once it has matched. The first
 * occurrence is always the right one, since it leaves the most of the name to the literals after it.
 */
export function globToRegExp(glob: string): RegExp {
  const literals = glob.split('*').map((literal) => literal.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'));
  const first = literals[0]!;
  if (literals.length === 1) return new RegExp(`^${first}$`, 'is');
  const last = literals[literals.length - 1]!;
  const middle = literals.slice(1, -1).filter((literal) => literal !== '');
  const steps = middle.map((literal, index) => `(?=(.*?${literal}))\\${index + 1}`).join('');
  return new RegExp(`^${first}${steps}.*${last}$`, 'is');
}

/** Whether the model name matches the glob (whole name, `*` wildcard, case-insensitive). */
export function matchesGlob(glob: string, model: string): boolean {
  return globToRegExp(glob).test(model);
}

interface CompiledStructure {
  matchers: RegExp[];
  /** Results per model name; structures are small, but look-ups run on every request. */
  results: Map<string, ModelPrice | undefined>;
}

/** Compiled globs per structure object. A structure edited in place is not seen; replace the object instead. */
const compiledStructures = new WeakMap<PricingStructure, CompiledStructure>();
/** Bounds the per-structure memo, which is keyed by client-chosen model names. */
const MAX_MEMOISED_MODELS = 1_000;

/**
 * The price the structure gives the model: its first entry whose glob matches, or undefined when none does.
 * A missing cached rate falls back to the entry's input rate; missing cache-write rates are resolved where the price
 * is read (see `ratesForInputTokens`): the input rate, and for the longer lifetime the cache-write rate.
 */
export function priceFromStructure(structure: PricingStructure, model: string): ModelPrice | undefined {
  let compiled = compiledStructures.get(structure);
  if (compiled === undefined) {
    compiled = { matchers: structure.entries.map((entry) => globToRegExp(entry.model)), results: new Map() };
    compiledStructures.set(structure, compiled);
  }
  if (compiled.results.has(model)) return compiled.results.get(model);
  const index = compiled.matchers.findIndex((matcher) => matcher.test(model));
  const entry = index === -1 ? undefined : structure.entries[index];
  const price: ModelPrice | undefined =
    entry === undefined
      ? undefined
      : {
          inputPerMillion: entry.input_per_million,
          outputPerMillion: entry.output_per_million,
          cachedInputPerMillion: entry.cached_input_per_million ?? entry.input_per_million,
          cacheWritePerMillion: entry.cache_write_per_million ?? undefined,
          cacheWriteLongPerMillion: entry.cache_write_long_per_million ?? undefined,
          source: 'structure',
        };
  if (compiled.results.size >= MAX_MEMOISED_MODELS) compiled.results.clear();
  compiled.results.set(model, price);
  return price;
}
