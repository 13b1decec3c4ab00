/** Token usage of one upstream attempt, normalised across providers. */
export interface TokenUsage {
  /** All prompt tokens, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens read from a cache (billed at the cached rate); part of inputTokens. */
  cachedInputTokens: number;
  /** Prompt tokens written to a cache (Anthropic cache creation); part of inputTokens. */
  cacheWriteTokens?: number;
  /**
   * Of the cache writes, those kept for the longer lifetime (Anthropic's one-hour cache), which cost more than the
   * default five minutes; part of cacheWriteTokens.
   */
  cacheWriteLongTokens?: number;
  reasoningTokens?: number;
}

/**
 * The largest token count Tollgate takes from an upstream's report. No request comes near it (the longest contexts
 * hold a few million tokens): a larger count is a broken report, and priced it could exceed what the limit counters
 * hold, which would leave the request's reservation unsettled.
 */
export const MAX_TOKEN_COUNT = 1_000_000_000;

/**
 * The largest value of a normalised count, which may add up a few reported ones (Anthropic's prompt is input, cache
 * writes and cache reads).
 */
const MAX_TOKEN_SUM = 4 * MAX_TOKEN_COUNT;

/** True for a count an upstream may report: a whole number from 0 to {@link MAX_TOKEN_COUNT}. */
export function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT;
}

/**
 * Reads the named token counts of an upstream's usage report. A member that is absent or null counts 0 (not
 * reported). A member present but not a count (negative, fractional, infinite, a string, an object, beyond
 * {@link MAX_TOKEN_COUNT}) makes the whole report untrustworthy: the result is then undefined, and the request is
 * charged its reservation as when no usage was reported, rather than settled to numbers that would loosen a limit
 * (a negative count) or that the counters refuse. A `record` that is not an object reads as an empty report.
 */
export function readTokenCounts<Name extends string>(record: unknown, names: readonly Name[]): Record<Name, number> | undefined {
  const source = record !== null && typeof record === 'object' && !Array.isArray(record) ? (record as Record<string, unknown>) : {};
  const counts = {} as Record<Name, number>;
  for (const name of names) {
    const value = source[name];
    if (value === undefined || value === null) counts[name] = 0;
    else if (isTokenCount(value)) counts[name] = value;
    else return undefined;
  }
  return counts;
}

/**
 * The usage itself when every count in it is a whole number from 0 to a few {@link MAX_TOKEN_COUNT}s, else
 * undefined. The core settles only such usage: whatever an adapter made of an upstream's report, a request is never
 * settled to amounts the limit counters would refuse (its reservation would then stay held) or that give back what
 * other requests spent.
 */
export function trustedUsage(usage: TokenUsage | undefined): TokenUsage | undefined {
  if (usage === undefined) return undefined;
  const valid =
    isTokenSum(usage.inputTokens) &&
    isTokenSum(usage.outputTokens) &&
    isTokenSum(usage.cachedInputTokens) &&
    (usage.cacheWriteTokens === undefined || isTokenSum(usage.cacheWriteTokens)) &&
    (usage.cacheWriteLongTokens === undefined || isTokenSum(usage.cacheWriteLongTokens)) &&
    (usage.reasoningTokens === undefined || isTokenSum(usage.reasoningTokens));
  return valid ? usage : undefined;
}

function isTokenSum(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_SUM;
}

/** Converts normalised usage to the OpenAI usage object. */
export function toOpenAIUsage(usage: TokenUsage): import('./openai.js').CompletionUsage {
  const result: import('./openai.js').CompletionUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
  };
  if (usage.reasoningTokens !== undefined) {
    result.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  }
  return result;
}

/**
 * Reads an OpenAI usage object (as sent by OpenAI-compatible upstreams) into normalised usage; undefined when there
 * is none, or when a count in it is not one (see {@link readTokenCounts}).
 */
export function fromOpenAIUsage(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  const record = usage as Record<string, unknown>;
  // Read member by member rather than through readTokenCounts: this runs on every OpenAI-compatible reply, and the
  // rule is the same (see countOf) without an object per group of counts.
  const prompt = countOf(record, 'prompt_tokens');
  const completion = countOf(record, 'completion_tokens');
  const cacheHits = countOf(record, 'prompt_cache_hit_tokens');
  const cached = countOf(record.prompt_tokens_details, 'cached_tokens');
  const reasoning = countOf(record.completion_tokens_details, 'reasoning_tokens');
  if (Number.isNaN(prompt + completion + cacheHits + cached + reasoning)) return undefined;
  // DeepSeek reports cache hits beside the standard details; the standard member wins when both are there.
  const cachedReported = memberOf(record.prompt_tokens_details, 'cached_tokens');
  const result: TokenUsage = {
    inputTokens: prompt,
    outputTokens: completion,
    cachedInputTokens: cachedReported === undefined || cachedReported === null ? cacheHits : cached,
  };
  if (typeof memberOf(record.completion_tokens_details, 'reasoning_tokens') === 'number') result.reasoningTokens = reasoning;
  return result;
}

/** One count by {@link readTokenCounts}' rule: 0 when absent or null (or `record` is no object), NaN when not a count. */
function countOf(record: unknown, name: string): number {
  const value = memberOf(record, name);
  if (value === undefined || value === null) return 0;
  return isTokenCount(value) ? value : Number.NaN;
}

function memberOf(record: unknown, name: string): unknown {
  return record !== null && typeof record === 'object' ? (record as Record<string, unknown>)[name] : undefined;
}

/**
 * Reads the usage of OpenAI's Responses API (`input_tokens`, `output_tokens` and their details) by the same rule as
 * {@link fromOpenAIUsage}: absent counts are 0, a member present but not a count makes the whole report unknown.
 */
export function fromResponsesUsage(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  const record = usage as Record<string, unknown>;
  const input = countOf(record, 'input_tokens');
  const output = countOf(record, 'output_tokens');
  const cached = countOf(record.input_tokens_details, 'cached_tokens');
  const reasoning = countOf(record.output_tokens_details, 'reasoning_tokens');
  if (Number.isNaN(input + output + cached + reasoning)) return undefined;
  const result: TokenUsage = { inputTokens: input, outputTokens: output, cachedInputTokens: cached };
  if (typeof memberOf(record.output_tokens_details, 'reasoning_tokens') === 'number') result.reasoningTokens = reasoning;
  return result;
}
