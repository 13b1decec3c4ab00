/** Token usage of one upstream attempt, normalised across providers. */
export interface TokenUsage {
  /** All prompt tokens, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens read from a cache (billed at the cached rate); part of inputTokens. */
  cachedInputTokens: number;
  /** Prompt tokens written to a cache (Anthropic cache creation); part of inputTokens. */
  cacheWriteTokens?: number;
  reasoningTokens?: number;
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

/** Reads an OpenAI usage object (as sent by OpenAI-compatible upstreams) into normalised usage. */
export function fromOpenAIUsage(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const record = usage as Record<string, unknown>;
  const prompt = numberOr(record.prompt_tokens, 0);
  const completion = numberOr(record.completion_tokens, 0);
  const promptDetails = record.prompt_tokens_details as Record<string, unknown> | undefined | null;
  const completionDetails = record.completion_tokens_details as Record<string, unknown> | undefined | null;
  const cached = numberOr(promptDetails?.cached_tokens, numberOr(record.prompt_cache_hit_tokens, 0));
  const result: TokenUsage = { inputTokens: prompt, outputTokens: completion, cachedInputTokens: cached };
  const reasoning = completionDetails?.reasoning_tokens;
  if (typeof reasoning === 'number') result.reasoningTokens = reasoning;
  return result;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
