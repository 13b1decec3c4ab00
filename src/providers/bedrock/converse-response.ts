/**
 * Translates a Bedrock Converse reply into an OpenAI chat completion.
 */
import type { ChatCompletion, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult, ProviderContext } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { ConverseResponse, ConverseUsage } from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';

/** Maps a Converse `stopReason` to an OpenAI `finish_reason`; unknown reasons become `stop`. */
export function toFinishReason(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * Normalises Converse usage. Bedrock reports cache reads and writes beside `inputTokens`, not inside it
 * (as Anthropic does), so the prompt total is their sum.
 */
export function toTokenUsage(usage: ConverseUsage | undefined): TokenUsage | undefined {
  if (usage === undefined || usage === null || typeof usage !== 'object') return undefined;
  const cacheRead = count(usage.cacheReadInputTokens);
  const cacheWrite = count(usage.cacheWriteInputTokens);
  const result: TokenUsage = {
    inputTokens: count(usage.inputTokens) + cacheRead + cacheWrite,
    outputTokens: count(usage.outputTokens),
    cachedInputTokens: cacheRead,
  };
  if (cacheWrite > 0) result.cacheWriteTokens = cacheWrite;
  return result;
}

/** The chat completion id for an attempt: derived from the request id so logs and replies line up. */
export function completionId(context: ProviderContext): string {
  return `chatcmpl-${context.requestId}`;
}

/** Translates a successful non-streamed Converse reply. */
export function fromConverseResponse(body: ConverseResponse, context: ProviderContext): ChatResult {
  const blocks = body.output?.message?.content ?? [];
  let text = '';
  let reasoning = '';
  let structured = false;
  const toolCalls: FunctionToolCall[] = [];
  for (const block of blocks) {
    if (typeof block.text === 'string') text += block.text;
    else if (block.toolUse !== undefined) {
      if (block.toolUse.name === STRUCTURED_OUTPUT_TOOL_NAME) {
        text += JSON.stringify(block.toolUse.input ?? {});
        structured = true;
      } else {
        toolCalls.push({
          id: block.toolUse.toolUseId,
          type: 'function',
          function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
        });
      }
    } else if (typeof block.reasoningContent?.reasoningText?.text === 'string') {
      reasoning += block.reasoningContent.reasoningText.text;
    }
  }
  let finishReason = toFinishReason(body.stopReason);
  // The structured-output tool is Tollgate's device, not a call the client should execute.
  if (finishReason === 'tool_calls' && structured && toolCalls.length === 0) finishReason = 'stop';

  const usage = toTokenUsage(body.usage);
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== '') message.reasoning_content = reasoning;
  const completion: ChatCompletion = {
    id: completionId(context),
    object: 'chat.completion',
    created: Math.floor(context.now() / 1000),
    model: context.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
  };
  if (usage !== undefined) completion.usage = toOpenAIUsage(usage);
  return { completion, usage };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
