/**
 * Cohere v2 chat reply → OpenAI chat completion. Pure: the clock and ids come from the caller.
 */
import { errors, GatewayError } from '../../spec/errors.js';
import type { ChatCompletion, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult } from '../../spec/provider.js';
import { readTokenCounts, toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { CohereChatResponse, CohereUsage } from './wire-types.js';
import { isRecord } from '../../spec/json-value.js';

/** What a translation needs besides the reply: the model name and the moment it was answered. */
export interface CompletionIdentity {
  model: string;
  requestId: string;
  now: () => number;
}

/**
 * Translates a Cohere chat reply. A reply that finished with `ERROR` or `TIMEOUT` has no usable answer and
 * becomes an upstream GatewayError (502 or 504), as does one whose members Tollgate reads are not of their types.
 */
export function fromCohereChatResponse(body: CohereChatResponse, identity: CompletionIdentity): ChatResult {
  // A generation that failed says so whatever else the reply holds; its error is the one worth reporting.
  const failure = isRecord(body) ? finishFailure(body.finish_reason, undefined) : undefined;
  if (failure) throw failure;
  const problem = cohereReplyShapeProblem(body);
  if (problem !== undefined) {
    throw errors.invalidReply(`Cohere answered with a reply Tollgate cannot read: ${problem}.`);
  }

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

/**
 * Why the members Tollgate reads of a Cohere chat reply are not of their types; undefined when they are. Content
 * items of kinds Tollgate does not know pass whatever their shape.
 */
export function cohereReplyShapeProblem(body: unknown): string | undefined {
  if (!isRecord(body)) return 'it is not an object';
  const message = body.message;
  if (!isRecord(message)) return '"message" is not an object';
  const content = message.content;
  if (content !== undefined && content !== null) {
    if (!Array.isArray(content)) return '"message.content" is not a list';
    const item = content.findIndex((entry) => !isRecord(entry));
    if (item >= 0) return `message.content[${item}] is not an object`;
  }
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return undefined;
  if (!Array.isArray(calls)) return '"message.tool_calls" is not a list';
  for (const [index, call] of calls.entries()) {
    const where = `message.tool_calls[${index}]`;
    if (!isRecord(call) || typeof call.id !== 'string') return `${where} has no id`;
    const called = call.function;
    if (!isRecord(called) || typeof called.name !== 'string') return `${where} does not name its function`;
    if (called.arguments !== undefined && called.arguments !== null && typeof called.arguments !== 'string') return `${where}.function.arguments is not text`;
  }
  return undefined;
}

/** `chatcmpl-` plus Cohere's own id, so a client-side id can be traced to Cohere's logs. */
export function completionId(cohereId: unknown, requestId: string): string {
  return `chatcmpl-${typeof cohereId === 'string' && cohereId !== '' ? cohereId : requestId}`;
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
 * when it sent one (as text).
 */
export function finishFailure(reason: unknown, reported: unknown): GatewayError | undefined {
  const message = typeof reported === 'string' && reported !== '' ? reported : undefined;
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
  if (!usage || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  const names = ['input_tokens', 'output_tokens'] as const;
  const tokens = readTokenCounts(usage.tokens, names);
  const billed = readTokenCounts(usage.billed_units, names);
  const cached = readTokenCounts(usage, ['cached_tokens']);
  // A count that is not one makes the whole report unknown: the request is then charged its reservation.
  if (tokens === undefined || billed === undefined || cached === undefined) return undefined;
  const reported = (group: unknown, name: string): boolean => isRecord(group) && group[name] !== undefined && group[name] !== null;
  const pick = (name: (typeof names)[number]): number | undefined =>
    reported(usage.tokens, name) ? tokens[name] : reported(usage.billed_units, name) ? billed[name] : undefined;
  const input = pick('input_tokens');
  const output = pick('output_tokens');
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0, cachedInputTokens: cached.cached_tokens };
}
