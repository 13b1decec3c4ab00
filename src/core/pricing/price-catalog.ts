/**
 * Prices of the built-in providers' models, read from the bundled data of `@pydantic/genai-prices`
 * (a maintained price table, refreshed with `npm update @pydantic/genai-prices`; see README.md).
 *
 * The package is used offline: its `updatePrices` auto-update is never enabled, so `calcPrice` only ever
 * sees the data shipped in node_modules. We use `calcPrice` for its model matching (date suffixes, aliases,
 * Azure's fallback to OpenAI, Vertex's fallback to Anthropic for Claude) and convert the matched model's
 * price list into Tollgate's `ModelPrice` ourselves, because the package only returns totals.
 */
import { calcPrice, findProvider, type ModelInfo } from '@pydantic/genai-prices';
import type { ModelPrice, PriceTier } from './model-price.js';

/** Look-ups of catalog prices, memoised per (provider, model). */
export interface PriceCatalog {
  /**
   * The catalog price of `model` (as sent upstream, without the provider prefix) served by an adapter of type
   * `provider`, or undefined when the catalog has no per-token price for it. Dated prices (announced changes,
   * DeepSeek's off-peak hours) are chosen for the catalog's clock at the time of the call, so a request should
   * look its price up once and use it for both the reservation and the settlement.
   */
  priceFor(provider: string, model: string): ModelPrice | undefined;
}

export interface PriceCatalogOptions {
  /** Milliseconds since the epoch; selects dated prices. Defaults to the system clock. */
  now?: () => number;
  /** Most (provider, model) pairs remembered; the names come from clients, so the memo must not grow unbounded. */
  maxMemoisedModels?: number;
}

/**
 * Tollgate adapter types whose package provider id differs from the type, or whose type could otherwise be
 * mistaken: Bedrock prices live under `aws`, Vertex and the Gemini API share Google's prices (Vertex's Claude
 * models included, through the package's fallback to Anthropic), xAI is `x-ai`.
 */
const PACKAGE_PROVIDER_BY_ADAPTER: Readonly<Record<string, string>> = {
  openai: 'openai',
  azure: 'azure',
  anthropic: 'anthropic',
  bedrock: 'aws',
  vertex: 'google',
  gemini: 'google',
  google: 'google',
  mistral: 'mistral',
  groq: 'groq',
  cohere: 'cohere',
  deepseek: 'deepseek',
  together: 'together',
  openrouter: 'openrouter',
  xai: 'x-ai',
  fireworks: 'fireworks',
  perplexity: 'perplexity',
  cerebras: 'cerebras',
  moonshot: 'moonshotai',
  voyage: 'voyageai',
};

const DEFAULT_MAX_MEMOISED_MODELS = 10_000;
const MILLISECONDS_PER_DAY = 86_400_000;

/** One dated or timed price of a model, converted once and chosen per call. */
interface ScheduledPrice {
  price: ModelPrice | undefined;
  /** Epoch milliseconds from which the price applies. */
  startsAt?: number;
  /** Daily window in milliseconds since UTC midnight; may wrap past midnight. */
  window?: { start: number; end: number };
}

/** Creates a catalog over the package's bundled data. */
export function createPriceCatalog(options: PriceCatalogOptions = {}): PriceCatalog {
  const now = options.now ?? Date.now;
  const maxMemoised = options.maxMemoisedModels ?? DEFAULT_MAX_MEMOISED_MODELS;
  const memo = new Map<string, ScheduledPrice[] | null>();

  return {
    priceFor(provider: string, model: string): ModelPrice | undefined {
      const key = `${provider}\n${model}`;
      let schedule = memo.get(key);
      if (schedule === undefined) {
        schedule = findSchedule(provider, model);
        // Evicting the oldest entry keeps memory bounded while the hot, long-lived names stay cached.
        if (memo.size >= maxMemoised) {
          const oldest = memo.keys().next();
          if (oldest.done !== true) memo.delete(oldest.value);
        }
        memo.set(key, schedule);
      }
      if (schedule === null) return undefined;
      return selectPrice(schedule, now());
    },
  };
}

/** The package provider id that prices an adapter type, or undefined when the package does not know it. */
export function packageProviderFor(adapterType: string): string | undefined {
  const mapped = PACKAGE_PROVIDER_BY_ADAPTER[adapterType];
  if (mapped !== undefined) return mapped;
  // Unlisted types are priced only by an exact provider id: the package's fuzzy provider matching would
  // otherwise price, say, a self-hosted server's models at a cloud provider's rates.
  return findProvider({ providerId: adapterType })?.id === adapterType ? adapterType : undefined;
}

function findSchedule(provider: string, model: string): ScheduledPrice[] | null {
  const packageProvider = packageProviderFor(provider);
  if (packageProvider === undefined) return null;
  for (const [providerId, name] of candidateNames(packageProvider, model)) {
    const info = matchModel(providerId, name);
    if (info !== undefined) return toSchedule(info);
  }
  return null;
}

/**
 * The (package provider, model name) pairs to try, most specific first. Bedrock model ids may be ARNs
 * (inference profiles name the model in their last path segment) and Claude ids unknown to the AWS table
 * fall back to Anthropic's prices, which Bedrock's list prices for Claude follow.
 */
function candidateNames(packageProvider: string, model: string): Array<[string, string]> {
  let name = model.trim();
  if (packageProvider === 'google') name = name.replace(/^(?:publishers\/[^/]+\/)?models\//, '');
  if (packageProvider !== 'aws') return [[packageProvider, name]];
  if (name.startsWith('arn:')) name = name.slice(name.lastIndexOf('/') + 1);
  const candidates: Array<[string, string]> = [['aws', name]];
  const anthropicAt = name.indexOf('anthropic.');
  if (anthropicAt !== -1) {
    const claude = name.slice(anthropicAt + 'anthropic.'.length);
    // Bedrock appends a version (`-v1:0`); Anthropic's own names lack it, but `claude-v2:1` is all version.
    const unversioned = claude.replace(/-v\d+(?::\d+)?$/, '');
    candidates.push(['anthropic', claude]);
    if (unversioned !== claude && unversioned !== 'claude') candidates.push(['anthropic', unversioned]);
  }
  return candidates;
}

function matchModel(providerId: string, name: string): ModelInfo | undefined {
  try {
    // Empty usage: we only want the match; the returned totals are ignored.
    return calcPrice({}, name, { providerId })?.model ?? undefined;
  } catch {
    // The package throws on malformed price data for a model; treat that model as unpriced.
    return undefined;
  }
}

function toSchedule(info: ModelInfo): ScheduledPrice[] | null {
  if (!Array.isArray(info.prices)) {
    const price = convertPrices(info.prices);
    return price === undefined ? null : [{ price }];
  }
  const schedule = info.prices.map((conditional): ScheduledPrice => {
    const scheduled: ScheduledPrice = { price: convertPrices(conditional.prices) };
    const constraint = conditional.constraint;
    if (constraint?.type === 'start_date') {
      scheduled.startsAt = Date.parse(`${constraint.start_date}T00:00:00Z`);
    } else if (constraint?.type === 'time_of_date') {
      scheduled.window = { start: millisecondsOfDay(constraint.start_time), end: millisecondsOfDay(constraint.end_time) };
    }
    return scheduled;
  });
  return schedule.some((entry) => entry.price !== undefined) ? schedule : null;
}

/** Mirrors the package's choice: the last entry whose constraint holds, else the first entry. */
function selectPrice(schedule: readonly ScheduledPrice[], at: number): ModelPrice | undefined {
  for (let index = schedule.length - 1; index >= 0; index -= 1) {
    const entry = schedule[index]!;
    if (entry.startsAt !== undefined) {
      if (at >= entry.startsAt) return entry.price;
    } else if (entry.window !== undefined) {
      const timeOfDay = ((at % MILLISECONDS_PER_DAY) + MILLISECONDS_PER_DAY) % MILLISECONDS_PER_DAY;
      const { start, end } = entry.window;
      const inside = end < start ? timeOfDay >= start || timeOfDay < end : timeOfDay >= start && timeOfDay < end;
      if (inside) return entry.price;
    } else {
      return entry.price;
    }
  }
  return schedule[0]?.price;
}

/** Parses `HH:MM:SS[.fff](Z|±HH:MM)` into milliseconds since UTC midnight. */
function millisecondsOfDay(time: string): number {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(time);
  if (match === null) throw new Error(`Unexpected time of day in the price data: ${time}`);
  const [, hours, minutes, seconds, fraction = '', , sign, offsetHours = '0', offsetMinutes = '0'] = match;
  const local = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds) + Number(`0.${fraction || '0'}`)) * 1000;
  const offset = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 * (sign === '-' ? -1 : 1);
  return (((local - offset) % MILLISECONDS_PER_DAY) + MILLISECONDS_PER_DAY) % MILLISECONDS_PER_DAY;
}

type PackageRate = number | { base: number; tiers: ReadonlyArray<{ start: number; price: number }> } | undefined;

/** The package's per-million keys Tollgate meters; others (audio, images, searches) have no TokenUsage field. */
const RATE_KEYS = {
  inputPerMillion: 'input_mtok',
  outputPerMillion: 'output_mtok',
  cachedInputPerMillion: 'cache_read_mtok',
  cacheWritePerMillion: 'cache_write_mtok',
  cacheWriteLongPerMillion: 'cache_write_1h_mtok',
} as const;
type RateField = keyof typeof RATE_KEYS;

/**
 * Converts a package price record. Models without an input token rate (audio by the hour, OCR by the page)
 * are not token-priced and give undefined. Embedding models have no output rate: they produce no output
 * tokens, so the rate is 0, as the package itself charges.
 */
function convertPrices(prices: Record<string, unknown>): ModelPrice | undefined {
  const rates = {} as Record<RateField, PackageRate>;
  for (const field of Object.keys(RATE_KEYS) as RateField[]) {
    rates[field] = readRate(prices[RATE_KEYS[field]]);
  }
  if (rates.inputPerMillion === undefined) return undefined;

  const price: ModelPrice = {
    inputPerMillion: baseRate(rates.inputPerMillion),
    outputPerMillion: baseRate(rates.outputPerMillion ?? 0),
    source: 'catalog',
  };
  if (rates.cachedInputPerMillion !== undefined) price.cachedInputPerMillion = baseRate(rates.cachedInputPerMillion);
  if (rates.cacheWritePerMillion !== undefined) price.cacheWritePerMillion = baseRate(rates.cacheWritePerMillion);
  if (rates.cacheWriteLongPerMillion !== undefined) price.cacheWriteLongPerMillion = baseRate(rates.cacheWriteLongPerMillion);
  const requestsPerThousand = prices.requests_kcount;
  if (typeof requestsPerThousand === 'number' && requestsPerThousand > 0) price.requestPrice = requestsPerThousand / 1000;

  const tiers = combineTiers(rates);
  if (tiers.length > 0) price.tiers = tiers;
  return Object.freeze(price);
}

function readRate(value: unknown): PackageRate {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value !== null && typeof value === 'object' && 'base' in value && 'tiers' in value) {
    const tiered = value as { base: unknown; tiers: unknown };
    if (typeof tiered.base === 'number' && Array.isArray(tiered.tiers)) {
      const tiers = tiered.tiers
        .filter((tier): tier is { start: number; price: number } => typeof tier?.start === 'number' && typeof tier?.price === 'number')
        .sort((left, right) => left.start - right.start);
      return { base: tiered.base, tiers };
    }
  }
  return undefined;
}

function baseRate(rate: Exclude<PackageRate, undefined>): number {
  return typeof rate === 'number' ? rate : rate.base;
}

/** The rate for a request of `inputTokens` input tokens (the package applies a tier when input > `start`). */
function rateAt(rate: Exclude<PackageRate, undefined>, inputTokens: number): number {
  if (typeof rate === 'number') return rate;
  let current = rate.base;
  for (const tier of rate.tiers) if (inputTokens > tier.start) current = tier.price;
  return current;
}

/**
 * Each package key carries its own tiers; Tollgate's tiers set all rates at once, so we take the union of the
 * thresholds and read every key's rate at each of them.
 */
function combineTiers(rates: Record<RateField, PackageRate>): PriceTier[] {
  const thresholds = new Set<number>();
  for (const rate of Object.values(rates)) {
    if (rate !== undefined && typeof rate !== 'number') for (const tier of rate.tiers) thresholds.add(tier.start);
  }
  return [...thresholds]
    .sort((left, right) => left - right)
    .map((threshold) => {
      // Reading the rate at threshold + 1 token: a tier with `start: s` applies to inputs of more than s tokens.
      const tier: PriceTier = {
        aboveInputTokens: threshold,
        inputPerMillion: rateAt(rates.inputPerMillion!, threshold + 1),
        outputPerMillion: rateAt(rates.outputPerMillion ?? 0, threshold + 1),
      };
      if (rates.cachedInputPerMillion !== undefined) tier.cachedInputPerMillion = rateAt(rates.cachedInputPerMillion, threshold + 1);
      if (rates.cacheWritePerMillion !== undefined) tier.cacheWritePerMillion = rateAt(rates.cacheWritePerMillion, threshold + 1);
      if (rates.cacheWriteLongPerMillion !== undefined) tier.cacheWriteLongPerMillion = rateAt(rates.cacheWriteLongPerMillion, threshold + 1);
      return tier;
    });
}
