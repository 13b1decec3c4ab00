/**
 * Gemini GenerateContentResponse → OpenAI ChatCompletion, finish reasons and normalised usage.
 */
import { randomBytes } from 'node:crypto';
import { errors } from '../../spec/errors.js';
import type { ChatCompletion, ChatCompletionChoice, FinishReason, FunctionToolCall } from '../../spec/openai.js';
import type { ChatResult } from '../../spec/provider.js';
import { readTokenCounts, toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { generateToolCallId } from './tool-call-id.js';
import type { GeminiCandidate, GeminiPart, GeminiUsageMetadata, GenerateContentResponse } from './types.js';
import { isAbsent, isRecord } from '../../spec/json-value.js';

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
export function mapFinishReason(reason: unknown, hasToolCalls: boolean): FinishReason | null {
  // Null, like absence, means "not finished yet"; a reason of another type is no reason.
  if (typeof reason !== 'string' || reason === '') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

const USAGE_COUNTS = ['promptTokenCount', 'toolUsePromptTokenCount', 'candidatesTokenCount', 'thoughtsTokenCount', 'cachedContentTokenCount'] as const;

/**
 * Normalises Gemini usage: prompt = promptTokenCount + toolUsePromptTokenCount (cached tokens are already part
 * of promptTokenCount), output = candidates + thoughts (thoughts are billed as output). Undefined when there is no
 * usage, or when a count in it is not one (the request is then charged its reservation).
 */
export function geminiUsageToTokenUsage(metadata: GeminiUsageMetadata | undefined): TokenUsage | undefined {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const counts = readTokenCounts(metadata, USAGE_COUNTS);
  if (counts === undefined) return undefined;
  const usage: TokenUsage = {
    inputTokens: counts.promptTokenCount + counts.toolUsePromptTokenCount,
    outputTokens: counts.candidatesTokenCount + counts.thoughtsTokenCount,
    cachedInputTokens: counts.cachedContentTokenCount,
  };
  if (typeof metadata.thoughtsTokenCount === 'number') usage.reasoningTokens = counts.thoughtsTokenCount;
  return usage;
}

/**
 * Why the members Tollgate reads of a GenerateContentResponse (a whole reply or one stream record) are not of
 * their types; undefined when they are. Absent and null members pass (a blocked prompt has no candidates, a
 * candidate stopped for safety no content), as do parts of kinds Tollgate does not know.
 */
export function generateContentShapeProblem(response: unknown): string | undefined {
  if (!isRecord(response)) return 'it is not an object';
  const candidates = response.candidates;
  if (isAbsent(candidates)) return undefined;
  if (!Array.isArray(candidates)) return '"candidates" is not a list';
  for (const [index, candidate] of candidates.entries()) {
    if (!isRecord(candidate)) return `candidates[${index}] is not an object`;
    const content = candidate.content;
    if (isAbsent(content)) continue;
    if (!isRecord(content)) return `candidates[${index}].content is not an object`;
    const parts = content.parts;
    if (isAbsent(parts)) continue;
    if (!Array.isArray(parts)) return `candidates[${index}].content.parts is not a list`;
    for (const [position, part] of parts.entries()) {
      const where = `candidates[${index}].content.parts[${position}]`;
      if (!isRecord(part)) return `${where} is not an object`;
      if (!isAbsent(part.text) && typeof part.text !== 'string') return `${where}.text is not text`;
      if (!isAbsent(part.thoughtSignature) && typeof part.thoughtSignature !== 'string') return `${where}.thoughtSignature is not text`;
      const call = part.functionCall;
      if (isAbsent(call)) continue;
      if (!isRecord(call) || typeof call.name !== 'string') return `${where}.functionCall does not name a function`;
      if (!isAbsent(call.args) && !isRecord(call.args)) return `${where}.functionCall.args is not an object`;
    }
  }
  return undefined;
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
 * becomes one empty choice with finish_reason `content_filter`. A reply whose members Tollgate reads are not of
 * their types (see {@link generateContentShapeProblem}) is a 502 from upstream.
 */
export function generateContentToChatCompletion(response: GenerateContentResponse, options: CompletionOptions): ChatResult {
  const problem = generateContentShapeProblem(response);
  if (problem !== undefined) {
    throw errors.invalidReply(`The upstream answered with a reply Tollgate cannot read: ${problem}.`);
  }
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
