/**
 * The answer to a native Responses request (see `NativeRequest`; OpenAI's, or Azure OpenAI's v1 API's): whether a
 * Response object is sound to forward, its usage, and the canonical completion it amounts to.
 */
import { errors } from '../../spec/errors.js';
import { areCountsWhereGiven, isRecord, isWholeNumber } from '../../spec/json-value.js';
import type { ChatCompletion, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult } from '../../spec/provider.js';
import { fromResponsesUsage, toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { parseJsonObject } from '../openai-compatible/index.js';

/** The usage counts a Response reports, each a whole number where given. */
const USAGE_COUNTS = ['input_tokens', 'output_tokens', 'total_tokens'] as const;
/** The usage's breakdowns, each an object whose count is a whole number where given. */
const USAGE_DETAILS = [
  ['input_tokens_details', 'cached_tokens'],
  ['output_tokens_details', 'reasoning_tokens'],
] as const;

/**
 * What keeps a Response object from being forwarded as OpenAI's SDKs read it, or undefined when nothing does: its id,
 * `object`, status (with `final`, one of a finished response: completed or incomplete), model, output items (see
 * {@link itemProblem}) and usage counts (where given).
 */
export function responseProblem(response: Record<string, unknown>, final = true): string | undefined {
  if (typeof response.id !== 'string' || response.object !== 'response') return 'it is not a Response object with an id';
  if (typeof response.status !== 'string') return 'it has no status';
  // A finished response is complete or cut short; a failed one (or any other state) is not an answer.
  if (final && response.status !== 'completed' && response.status !== 'incomplete') return `its status is ${response.status.slice(0, 100)}`;
  if (typeof response.model !== 'string') return 'it names no model';
  if (!Array.isArray(response.output)) return 'its output is not a list';
  for (const item of response.output) {
    const problem = itemProblem(item);
    if (problem !== undefined) return problem;
  }
  const usage = response.usage;
  if (usage !== undefined && usage !== null) {
    if (!isRecord(usage) || !areCountsWhereGiven(usage, USAGE_COUNTS)) return 'its usage holds something other than counts';
    for (const [details, count] of USAGE_DETAILS) {
      const given = usage[details];
      if (given !== undefined && given !== null && !(isRecord(given) && areCountsWhereGiven(given, [count]))) return 'its usage details hold something other than counts';
    }
  }
  return undefined;
}

/**
 * What keeps an output item from being read as OpenAI's SDKs read it (they join a message's text parts into
 * `output_text`, and hand a function call's name, id and arguments to the client's code), or undefined.
 */
export function itemProblem(item: unknown): string | undefined {
  if (!isRecord(item) || typeof item.type !== 'string') return 'an output item has no type';
  if (item.type === 'message') {
    if (!Array.isArray(item.content) || !item.content.every((part) => isRecord(part) && typeof part.type === 'string')) return 'a message has no list of typed parts';
    if (!item.content.every((part) => part.type !== 'output_text' || typeof part.text === 'string')) return 'a text part has no text';
  }
  if (item.type === 'function_call' && !(typeof item.call_id === 'string' && typeof item.name === 'string' && typeof item.arguments === 'string')) {
    return 'a function call lacks its id, name or arguments';
  }
  return undefined;
}

/**
 * Parses the non-streamed answer to a native Responses request. A Response that cannot be forwarded soundly is
 * a 502, as a chat completion Tollgate cannot read is: forwarded, it would break the client's SDK.
 */
export function parseNativeResponse(body: Uint8Array): ChatResult {
  const response = parseJsonObject(body, 'response');
  const problem = responseProblem(response);
  if (problem !== undefined) throw errors.invalidReply(`The upstream returned a response Tollgate cannot forward: ${problem}.`);
  const usage = fromResponsesUsage(response.usage);
  return { completion: completionOfResponse(response, usage), usage, nativeSound: true };
}

/**
 * The canonical completion a Response amounts to: its message text, refusal, reasoning summary and function calls.
 * The route forwards the Response itself; this keeps the result's completion true to it.
 */
export function completionOfResponse(response: Record<string, unknown>, usage: TokenUsage | undefined): ChatCompletion {
  let content: string | null = null;
  let refusal: string | null = null;
  let reasoning: string | undefined;
  const toolCalls: FunctionToolCall[] = [];
  for (const item of response.output as Record<string, unknown>[]) {
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content) {
        if (!isRecord(part)) continue;
        if (part.type === 'output_text' && typeof part.text === 'string') content = (content ?? '') + part.text;
        else if (part.type === 'refusal' && typeof part.refusal === 'string') refusal = (refusal ?? '') + part.refusal;
      }
    } else if (item.type === 'reasoning' && Array.isArray(item.summary)) {
      for (const part of item.summary) if (isRecord(part) && typeof part.text === 'string') reasoning = (reasoning ?? '') + part.text;
    } else if (item.type === 'function_call' && typeof item.call_id === 'string' && typeof item.name === 'string') {
      toolCalls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '' } });
    }
  }
  const details = response.incomplete_details;
  const cut = response.status === 'incomplete' && isRecord(details) ? details.reason : undefined;
  const finishReason: FinishReason = cut === 'max_output_tokens' ? 'length' : cut === 'content_filter' ? 'content_filter' : toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content, refusal };
  if (reasoning !== undefined) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const completion: ChatCompletion = {
    id: response.id as string,
    object: 'chat.completion',
    created: isWholeNumber(response.created_at) ? response.created_at : 0,
    model: response.model as string,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
  };
  if (usage !== undefined) completion.usage = toOpenAIUsage(usage);
  return completion;
}
