/**
 * OpenAI chat completion (from whichever provider answered) → Anthropic message, for Tollgate's
 * `POST /v1/messages`.
 */
import { randomUUID } from 'node:crypto';
import type {
  AnthropicMessage,
  AnthropicRedactedThinkingBlock,
  AnthropicResponseBlock,
  AnthropicThinkingBlock,
  AnthropicUsage,
} from '../../spec/anthropic.js';
import type { ChatCompletion, ChatCompletionChoice } from '../../spec/openai.js';
import { fromOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { stopReasonFromFinishReason } from '../../providers/anthropic-format/stop-reason.js';
import { isRecord } from '../../spec/json-value.js';

/**
 * Normalised usage in Anthropic's terms: `input_tokens` excludes cache traffic, which is reported apart as
 * cache reads and cache writes.
 */
export function tokenUsageToAnthropicUsage(usage: TokenUsage | undefined): AnthropicUsage {
  if (usage === undefined) {
    return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  }
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const converted: AnthropicUsage = {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - cacheWrite),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: usage.cachedInputTokens,
  };
  // The breakdown by lifetime, where the upstream gave one (a Claude upstream on Vertex, say).
  const long = usage.cacheWriteLongTokens;
  if (long !== undefined) converted.cache_creation = { ephemeral_5m_input_tokens: Math.max(0, cacheWrite - long), ephemeral_1h_input_tokens: long };
  return converted;
}

/** A message id in Anthropic's style, derived from the completion id so logs can be matched. */
export function messageIdFor(completionId: string): string {
  if (completionId.startsWith('msg_')) return completionId;
  return `msg_${completionId.replace(/^chatcmpl-/, '')}`;
}

function readThinkingBlocks(message: ChatCompletionChoice['message']): Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> {
  const value = message.thinking_blocks;
  if (Array.isArray(value)) {
    const blocks = value.flatMap((item): Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> => {
      if (item === null || typeof item !== 'object') return [];
      const record = item as Record<string, unknown>;
      if (record.type === 'thinking' && typeof record.thinking === 'string') {
        return [{ type: 'thinking', thinking: record.thinking, signature: typeof record.signature === 'string' ? record.signature : '' }];
      }
      if (record.type === 'redacted_thinking' && typeof record.data === 'string') return [{ type: 'redacted_thinking', data: record.data }];
      return [];
    });
    if (blocks.length > 0) return blocks;
  }
  // Reasoning from non-Anthropic models (DeepSeek-style) has no signature; Anthropic SDKs accept an empty one.
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    return [{ type: 'thinking', thinking: message.reasoning_content, signature: '' }];
  }
  return [];
}

function parseInput(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Some models emit broken JSON; the client still gets the call, with the raw text to inspect.
    return { _raw_arguments: text };
  }
}

/**
 * Translates a chat completion into an Anthropic message: thinking first, then the text, then one `tool_use`
 * block per tool call (arguments parsed into `input`); `finish_reason` becomes `stop_reason`. Only the first
 * choice is used, since Anthropic replies carry one. `usage`, when the core has it normalised, is preferred over
 * the completion's own, because only it keeps cache writes apart.
 */
export function chatCompletionToMessage(completion: ChatCompletion, model: string, usage?: TokenUsage): AnthropicMessage {
  // Adapters check what they read of an upstream's reply; this reads defensively all the same, since a completion
  // forwarded from an OpenAI-compatible upstream keeps members no adapter needed.
  const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
  const content: AnthropicResponseBlock[] = [];
  const message = isRecord(choice) && isRecord(choice.message) ? (choice.message as ChatCompletionChoice['message']) : undefined;
  if (message !== undefined) {
    content.push(...readThinkingBlocks(message));
    const text = typeof message.content === 'string' ? message.content : '';
    if (text !== '') content.push({ type: 'text', text });
    else if (typeof message.refusal === 'string' && message.refusal !== '') content.push({ type: 'text', text: message.refusal });
    const calls: unknown[] = Array.isArray(message.tool_calls) ? message.tool_calls : [];
    for (const [index, call] of calls.entries()) {
      // Anthropic clients know function tools only; calls of other kinds (custom tools) have no block to become.
      if (!isRecord(call) || (typeof call.type === 'string' && call.type !== 'function') || !isRecord(call.function)) continue;
      const { name, arguments: argumentsText } = call.function;
      content.push({
        type: 'tool_use',
        id: typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${index}`,
        name: typeof name === 'string' ? name : '',
        input: parseInput(typeof argumentsText === 'string' ? argumentsText : ''),
      });
    }
  }
  const hasToolUse = content.some((block) => block.type === 'tool_use');
  let stopReason = stopReasonFromFinishReason(isRecord(choice) && typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined);
  // Some providers say "stop" after tool calls; Anthropic clients loop on tool_use, so say that.
  if (stopReason === 'end_turn' && hasToolUse) stopReason = 'tool_use';
  return {
    id: messageIdFor(typeof completion.id === 'string' && completion.id !== '' ? completion.id : `chatcmpl-${randomUUID().replace(/-/g, '')}`),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: tokenUsageToAnthropicUsage(usage ?? fromOpenAIUsage(completion.usage)),
  };
}
