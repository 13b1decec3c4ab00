/**
 * Translates a Bedrock Converse reply into an OpenAI chat completion.
 */
import { errors } from '../../spec/errors.js';
import type { ChatCompletion, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult, ProviderContext } from '../../spec/provider.js';
import { readTokenCounts, toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { ConverseResponse, ConverseUsage } from './converse-types.js';
import { STRUCTURED_OUTPUT_TOOL_NAME } from './structured-output.js';
import { isRecord } from '../../spec/json-value.js';

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
  if (usage === undefined || usage === null || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  // A count that is not one makes the whole report unknown: the request is then charged its reservation.
  const counts = readTokenCounts(usage, USAGE_COUNTS);
  if (counts === undefined) return undefined;
  const cacheRead = counts.cacheReadInputTokens;
  const cacheWrite = counts.cacheWriteInputTokens;
  const result: TokenUsage = {
    inputTokens: counts.inputTokens + cacheRead + cacheWrite,
    outputTokens: counts.outputTokens,
    cachedInputTokens: cacheRead,
  };
  if (cacheWrite > 0) result.cacheWriteTokens = cacheWrite;
  return result;
}

/** The chat completion id for an attempt: derived from the request id so logs and replies line up. */
export function completionId(context: ProviderContext): string {
  return `chatcmpl-${context.requestId}`;
}

/**
 * Translates a successful non-streamed Converse reply; one whose members Tollgate reads are not of their types
 * (see {@link converseShapeProblem}) is a 502 from upstream.
 */
export function fromConverseResponse(body: ConverseResponse, context: ProviderContext): ChatResult {
  const problem = converseShapeProblem(body);
  if (problem !== undefined) {
    throw errors.invalidReply(`Bedrock returned a reply Tollgate cannot read: ${problem}.`);
  }
  const blocks = body.output?.message?.content ?? [];
  let text = '';
  let reasoning = '';
  let structured = false;
  const toolCalls: FunctionToolCall[] = [];
  for (const block of blocks) {
    if (typeof block.text === 'string') text += block.text;
    else if (block.toolUse !== undefined && block.toolUse !== null) {
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

const USAGE_COUNTS = ['inputTokens', 'outputTokens', 'cacheReadInputTokens', 'cacheWriteInputTokens'] as const;

/**
 * Why the members Tollgate reads of a Converse reply are not of their types; undefined when they are. Content
 * blocks of kinds Tollgate does not know (images, citations, later additions) pass whatever their shape.
 */
export function converseShapeProblem(body: unknown): string | undefined {
  if (!isRecord(body)) return 'it is not an object';
  if (!isRecord(body.output)) return '"output" is not an object';
  const message = body.output.message;
  if (!isRecord(message)) return '"output.message" is not an object';
  if (!Array.isArray(message.content)) return '"output.message.content" is not a list';
  for (const [index, block] of message.content.entries()) {
    const where = `output.message.content[${index}]`;
    if (!isRecord(block)) return `${where} is not an object`;
    if (block.text !== undefined && block.text !== null && typeof block.text !== 'string') return `${where}.text is not text`;
    const toolUse = block.toolUse;
    if (toolUse === undefined || toolUse === null) continue;
    if (!isRecord(toolUse) || typeof toolUse.name !== 'string' || typeof toolUse.toolUseId !== 'string') return `${where}.toolUse does not name its tool and id`;
  }
  return undefined;
}

