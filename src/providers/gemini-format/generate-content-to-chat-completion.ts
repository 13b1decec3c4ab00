/**
 * Gemini GenerateContentResponse → OpenAI ChatCompletion, finish reasons and normalised usage.
 */
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChoice, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { generateToolCallId } from './tool-call-id.js';
import type { GeminiCandidate, GeminiPart, GeminiUsageMetadata, GenerateContentResponse } from './types.js';

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Maps a Gemini finishReason. STOP becomes `tool_calls` when the candidate called functions; unknown and
 * non-error reasons (OTHER, MALFORMED_FUNCTION_CALL, LANGUAGE, ...) become `stop`. Undefined stays null.
 */
export function mapFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason | null {
  if (reason === undefined || reason === '') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Normalises Gemini usage: prompt = promptTokenCount + toolUsePromptTokenCount (cached tokens are already part
 * of promptTokenCount), output = candidates + thoughts (thoughts are billed as output).
 */
export function geminiUsageToTokenUsage(metadata: GeminiUsageMetadata | undefined): TokenUsage | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  const usage: TokenUsage = {
    inputTokens: count(metadata.promptTokenCount) + count(metadata.toolUsePromptTokenCount),
    outputTokens: count(metadata.candidatesTokenCount) + count(metadata.thoughtsTokenCount),
    cachedInputTokens: count(metadata.cachedContentTokenCount),
  };
  if (typeof metadata.thoughtsTokenCount === 'number') usage.reasoningTokens = metadata.thoughtsTokenCount;
  return usage;
}

/** Splits a candidate's parts into visible text, thought text and tool calls (with gateway ids). */
export function readCandidateParts(parts: GeminiPart[] | undefined): { text: string; thoughts: string; toolCalls: FunctionToolCall[] } {
  let text = '';
  let thoughts = '';
  const toolCalls: FunctionToolCall[] = [];
  for (const part of parts ?? []) {
    if (part.functionCall) {
      toolCalls.push({
        id: generateToolCallId(part.thoughtSignature),
        type: 'function',
        function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
      });
    } else if (typeof part.text === 'string') {
      if (part.thought === true) thoughts += part.text;
      else text += part.text;
    }
  }
  return { text, thoughts, toolCalls };
}

/** A `chatcmpl-` id: the upstream's responseId when it sent one, random otherwise. */
export function completionId(responseId: string | undefined): string {
  return `chatcmpl-${responseId && /^[\w-]+$/.test(responseId) ? responseId : randomBytes(12).toString('hex')}`;
}

function choiceFor(candidate: GeminiCandidate, position: number): ChatCompletionChoice {
  const { text, thoughts, toolCalls } = readCandidateParts(candidate.content?.parts);
  const message: ChatCompletionChoice['message'] = {
    role: 'assistant',
    content: text.length > 0 || toolCalls.length === 0 ? text : null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thoughts.length > 0) message.reasoning_content = thoughts;
  return {
    index: typeof candidate.index === 'number' ? candidate.index : position,
    message,
    finish_reason: mapFinishReason(candidate.finishReason, toolCalls.length > 0) ?? 'stop',
    logprobs: null,
  };
}

export interface CompletionOptions {
  /** The model name reported to the client. */
  model: string;
  /** Milliseconds since the epoch, for `created`. */
  now: number;
}

/**
 * Translates a non-streamed reply. A prompt blocked before generation (no candidates, promptFeedback.blockReason)
 * becomes one empty choice with finish_reason `content_filter`.
 */
export function generateContentToChatCompletion(response: GenerateContentResponse, options: CompletionOptions): ChatResult {
  const candidates = response.candidates ?? [];
  const choices: ChatCompletionChoice[] =
    candidates.length > 0
      ? candidates.map(choiceFor)
      : [
          {
            index: 0,
            message: { role: 'assistant', content: '' },
            finish_reason: response.promptFeedback?.blockReason ? 'content_filter' : 'stop',
            logprobs: null,
          },
        ];
  const usage = geminiUsageToTokenUsage(response.usageMetadata);
  const completion: ChatCompletion = {
    id: completionId(response.responseId),
    object: 'chat.completion',
    created: Math.floor(options.now / 1000),
    model: options.model,
    choices,
  };
  if (usage) completion.usage = toOpenAIUsage(usage);
  return { completion, usage };
}
