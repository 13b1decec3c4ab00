/** Anthropic message → OpenAI chat completion, and Anthropic usage → normalised usage (reference §3). */
import type { AnthropicMessage, AnthropicUsage } from '../../spec/anthropic.js';
import { errors } from '../../spec/errors.js';
import type { ChatCompletion, ChatCompletionChoice, FunctionToolCall } from '../../spec/openai.js';
import { readTokenCounts, toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { readReplyJson } from '../../spec/reply-json.js';
import { finishReasonFromStopReason } from './stop-reason.js';
import { areCountsWhereGiven, isRecord, isWholeNumber } from '../../spec/json-value.js';

/** The counts of an Anthropic usage report. */
export const USAGE_COUNTS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;
const LIFETIME_COUNTS = ['ephemeral_1h_input_tokens'] as const;

/**
 * Normalises Anthropic usage. `input_tokens` counts only uncached prompt tokens, so the whole prompt is
 * input + cache writes + cache reads; cache reads are the cached part. Undefined when there is no usage, or when a
 * count in it is not one (the request is then charged its reservation).
 */
export function anthropicUsageToTokenUsage(usage: Partial<AnthropicUsage> | null | undefined): TokenUsage | undefined {
  if (usage === null || usage === undefined || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  const counts = readTokenCounts(usage, USAGE_COUNTS);
  if (counts === undefined) return undefined;
  const cacheWrite = counts.cache_creation_input_tokens;
  const cacheRead = counts.cache_read_input_tokens;
  const normalised: TokenUsage = {
    inputTokens: counts.input_tokens + cacheWrite + cacheRead,
    outputTokens: counts.output_tokens,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
  // The breakdown by lifetime, when reported, prices the one-hour writes at their own rate (a breakdown that is not
  // counts is ignored: the writes are then all priced at the default lifetime's rate, as before the breakdown).
  const lifetimes = readTokenCounts(usage.cache_creation, LIFETIME_COUNTS);
  if (lifetimes !== undefined && lifetimes.ephemeral_1h_input_tokens > 0) normalised.cacheWriteLongTokens = Math.min(lifetimes.ephemeral_1h_input_tokens, cacheWrite);
  return normalised;
}

/**
 * Why the members Tollgate reads of an Anthropic message are not of their types; undefined when they are. Blocks
 * of types Tollgate does not know (server tools, later additions) pass whatever their shape, as do unknown members.
 */
export function messageShapeProblem(message: unknown): string | undefined {
  if (!isRecord(message)) return 'it is not an object';
  if (!Array.isArray(message.content)) return '"content" is not a list';
  for (const [index, block] of message.content.entries()) {
    if (!isRecord(block)) return `content[${index}] is not an object`;
    const wrong = (member: string): string => `content[${index}].${member} of a ${String(block.type)} block is not text`;
    switch (block.type) {
      case 'text':
        if (typeof block.text !== 'string') return wrong('text');
        break;
      case 'tool_use':
        if (typeof block.id !== 'string') return wrong('id');
        if (typeof block.name !== 'string') return wrong('name');
        break;
      case 'thinking':
        if (typeof block.thinking !== 'string') return wrong('thinking');
        if (block.signature !== undefined && block.signature !== null && typeof block.signature !== 'string') return wrong('signature');
        break;
      case 'redacted_thinking':
        if (typeof block.data !== 'string') return wrong('data');
        break;
      default:
        break;
    }
  }
  return undefined;
}

const isTextOrNull = (value: unknown): boolean => value === null || typeof value === 'string';

/**
 * Whether a message that passed {@link messageShapeProblem} may reach an Anthropic client as the upstream wrote it:
 * the members Anthropic's SDKs read of a message are there and of their types (its id, type, role, model, stop
 * reason and sequence, and the usage counts, the cache counts where given). A reply that is not gets translated
 * instead, which writes each of them anew.
 */
export function isSoundMessage(message: AnthropicMessage): boolean {
  const usage: unknown = message.usage;
  if (!isRecord(usage) || !isWholeNumber(usage.input_tokens) || !isWholeNumber(usage.output_tokens)) return false;
  if (!areCountsWhereGiven(usage, ['cache_creation_input_tokens', 'cache_read_input_tokens'])) return false;
  const blocks: unknown[] = Array.isArray(message.content) ? message.content : [];
  if (!blocks.every((block) => isRecord(block) && typeof block.type === 'string')) return false;
  return (
    typeof message.id === 'string' &&
    message.id !== '' &&
    message.type === 'message' &&
    message.role === 'assistant' &&
    typeof message.model === 'string' &&
    isTextOrNull(message.stop_reason) &&
    (message.stop_sequence === undefined || isTextOrNull(message.stop_sequence))
  );
}

/**
 * Reads a successful reply's body as an Anthropic message: a body that is not JSON, or not a message whose members
 * Tollgate reads are of their types, is an upstream fault (502). `upstream` names who answered, for the message.
 */
export function readAnthropicMessage(body: Uint8Array, upstream: string): AnthropicMessage {
  const parsed = readReplyJson(body, upstream);
  const problem = messageShapeProblem(parsed);
  if (problem !== undefined) throw errors.invalidReply(`${upstream} answered with a body that is not an Anthropic message Tollgate can read: ${problem}.`);
  return parsed as AnthropicMessage;
}

export interface MessageToChatOptions {
  /** Unix seconds for `created`; defaults to now. */
  created?: number;
  /** The completion's id when the message names none (a Messages-compatible server may leave it out). */
  fallbackId?: string;
}

/**
 * Translates an Anthropic reply into an OpenAI chat completion. Text blocks are joined into `content`,
 * `tool_use` blocks become `tool_calls`, thinking text is exposed as the non-standard `reasoning_content` and
 * the thinking blocks themselves (signatures included) as `thinking_blocks`, so a later turn can send them back.
 * Server-tool blocks have no OpenAI equivalent and are left out. The message is expected to have passed
 * {@link messageShapeProblem}.
 */
export function messageToChatCompletion(
  message: AnthropicMessage,
  requestedModel: string,
  options: MessageToChatOptions = {},
): ChatCompletion {
  const texts: string[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: unknown[] = [];
  const toolCalls: FunctionToolCall[] = [];
  for (const block of Array.isArray(message.content) ? message.content : []) {
    switch (block.type) {
      case 'text':
        texts.push(block.text);
        break;
      case 'tool_use':
        toolCalls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      case 'thinking':
        reasoning.push(block.thinking);
        thinkingBlocks.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
        break;
      case 'redacted_thinking':
        thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
        break;
      default:
        break;
    }
  }
  const choiceMessage: ChatCompletionChoice['message'] = {
    role: 'assistant',
    content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join(''),
  };
  if (toolCalls.length > 0) choiceMessage.tool_calls = toolCalls;
  if (reasoning.length > 0) choiceMessage.reasoning_content = reasoning.join('');
  if (thinkingBlocks.length > 0) choiceMessage.thinking_blocks = thinkingBlocks;
  const completion: ChatCompletion = {
    id: typeof message.id === 'string' && message.id !== '' ? message.id : (options.fallbackId ?? 'msg_unknown'),
    object: 'chat.completion',
    created: options.created ?? Math.floor(Date.now() / 1000),
    model: requestedModel,
    choices: [{ index: 0, message: choiceMessage, finish_reason: finishReasonFromStopReason(message.stop_reason), logprobs: null }],
  };
  const usage = anthropicUsageToTokenUsage(message.usage);
  if (usage !== undefined) completion.usage = toOpenAIUsage(usage);
  return completion;
}
