/** Anthropic message → OpenAI chat completion, and Anthropic usage → normalised usage (reference §3). */
import type { AnthropicMessage, AnthropicUsage } from '../../spec/anthropic.js';
import type { ChatCompletion, ChatCompletionChoice, FunctionToolCall } from '../../spec/openai.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { finishReasonFromStopReason } from './stop-reason.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Normalises Anthropic usage. `input_tokens` counts only uncached prompt tokens, so the whole prompt is
 * input + cache writes + cache reads; cache reads are the cached part.
 */
export function anthropicUsageToTokenUsage(usage: Partial<AnthropicUsage> | null | undefined): TokenUsage | undefined {
  if (usage === null || usage === undefined || typeof usage !== 'object') return undefined;
  const cacheWrite = count(usage.cache_creation_input_tokens);
  const cacheRead = count(usage.cache_read_input_tokens);
  return {
    inputTokens: count(usage.input_tokens) + cacheWrite + cacheRead,
    outputTokens: count(usage.output_tokens),
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

export interface MessageToChatOptions {
  /** Unix seconds for `created`; defaults to now. */
  created?: number;
}

/**
 * Translates an Anthropic reply into an OpenAI chat completion. Text blocks are joined into `content`,
 * `tool_use` blocks become `tool_calls`, thinking text is exposed as the non-standard `reasoning_content` and
 * the thinking blocks themselves (signatures included) as `thinking_blocks`, so a later turn can send them back.
 * Server-tool blocks have no OpenAI equivalent and are left out.
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
    id: message.id,
    object: 'chat.completion',
    created: options.created ?? Math.floor(Date.now() / 1000),
    model: requestedModel,
    choices: [{ index: 0, message: choiceMessage, finish_reason: finishReasonFromStopReason(message.stop_reason), logprobs: null }],
  };
  const usage = anthropicUsageToTokenUsage(message.usage);
  if (usage !== undefined) completion.usage = toOpenAIUsage(usage);
  return completion;
}
