/**
 * Cohere v2 chat reply → OpenAI chat completion. Pure: the clock and ids come from the caller.
 */
import { GatewayError } from '../../spec/errors.js';
import type { ChatCompletion, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { CohereChatResponse, CohereUsage } from './wire-types.js';

/** What a translation needs besides the reply: the model name and the moment it was answered. */
export interface CompletionIdentity {
  model: string;
  requestId: string;
  now: () => number;
}

/**
 * Translates a Cohere chat reply. A reply that finished with `ERROR` or `TIMEOUT` has no usable answer and
 * becomes an upstream GatewayError (502 or 504).
 */
export function fromCohereChatResponse(body: CohereChatResponse, identity: CompletionIdentity): ChatResult {
  const failure = finishFailure(body.finish_reason, undefined);
  if (failure) throw failure;

  let text = '';
  let reasoning = '';
  for (const item of body.message?.content ?? []) {
    if (item.type === 'text' && typeof item.text === 'string') text += item.text;
    else if (item.type === 'thinking' && typeof item.thinking === 'string') reasoning += item.thinking;
  }
  const toolCalls: FunctionToolCall[] = (body.message?.tool_calls ?? []).map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.function.name, arguments: call.function.arguments ?? '' },
  }));
  if (toolCalls.length > 0 && text === '' && typeof body.message.tool_plan === 'string') text = body.message.tool_plan;

  const usage = readCohereUsage(body.usage);
  const completion: ChatCompletion = {
    id: completionId(body.id, identity.requestId),
    object: 'chat.completion',
    created: Math.floor(identity.now() / 1000),
    model: identity.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text },
        finish_reason: mapCohereFinishReason(body.finish_reason),
        logprobs: null,
      },
    ],
  };
  const message = completion.choices[0]!.message;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (usage) completion.usage = toOpenAIUsage(usage);
  return { completion, usage };
}

/** `chatcmpl-` plus Cohere's own id, so a client-side id can be traced to Cohere's logs. */
export function completionId(cohereId: string | undefined, requestId: string): string {
  return `chatcmpl-${cohereId && cohereId !== '' ? cohereId : requestId}`;
}

/** Cohere finish reasons → OpenAI; anything unknown is `stop` (reference §8). */
export function mapCohereFinishReason(reason: string | undefined): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    default:
      return 'stop';
  }
}

/**
 * The error a finish reason stands for, if any: `ERROR` → 502, `TIMEOUT` → 504 (retryable), with Cohere's message
 * when it sent one.
 */
export function finishFailure(reason: string | undefined, message: string | undefined): GatewayError | undefined {
  if (reason === 'ERROR') {
    return new GatewayError({
      status: 502,
      type: 'upstream_error',
      code: 'upstream_generation_error',
      message: message ?? 'Cohere stopped the generation with an error.',
      upstream: true,
      retryable: true,
    });
  }
  if (reason === 'TIMEOUT') {
    return new GatewayError({
      status: 504,
      type: 'timeout_error',
      code: 'upstream_timeout',
      message: message ?? 'Cohere stopped the generation: it timed out.',
      upstream: true,
      retryable: true,
    });
  }
  return undefined;
}

/**
 * Reads Cohere usage: `tokens` counts everything the model saw (including Cohere's own prompt scaffolding), so it
 * is preferred; `billed_units` is the fallback when `tokens` is missing.
 */
export function readCohereUsage(usage: CohereUsage | undefined | null): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const input = numberOrUndefined(usage.tokens?.input_tokens) ?? numberOrUndefined(usage.billed_units?.input_tokens);
  const output = numberOrUndefined(usage.tokens?.output_tokens) ?? numberOrUndefined(usage.billed_units?.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0, cachedInputTokens: numberOrUndefined(usage.cached_tokens) ?? 0 };
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
