/**
 * Token bounds for reserving a request's worst-case cost before it is sent.
 *
 * Why the UTF-8 byte length bounds the token count of text, for every provider at once: the tokenizers in use
 * are byte-level BPE (OpenAI's cl100k/o200k, Llama 3, Mistral's Tekken, Qwen, DeepSeek, Claude's) or
 * SentencePiece with byte fallback (Gemini/Gemma, Llama 2, older Mistral). Both split the text's UTF-8 bytes
 * into tokens that each cover at least one byte (a BPE merge only ever joins bytes, and byte fallback emits one
 * token per byte for text outside the vocabulary), and none of them expands the text by normalisation first.
 * So a text of n bytes is at most n tokens. What the bytes do not cover is the template the provider wraps the
 * text in (role markers, turn separators, a priming for the reply, the tool-use instructions Anthropic adds when
 * tools are present); those get fixed allowances below, set well above the published figures (OpenAI: 3 tokens a
 * message, 3 for the reply; Llama 3 and Gemma templates: about 5 a turn; Anthropic's tool prompt: about 350).
 *
 * The bound is loose (English runs about 4.5 bytes a token on o200k), but computing it costs one native byte
 * count per string. An exact count with gpt-tokenizer was measured at ~100 ms per MB of English and ~500 ms per MB
 * of random text on one core, blocking the event loop, and would only be exact for OpenAI's own models; the
 * reservation is released at settlement anyway, so a looser bound costs headroom for a moment, not money.
 */
import type { ChatCompletionRequest, ChatMessage, EmbeddingRequest, Tool } from '../../spec/openai.js';
import { audioTokenBound, fileTokenBound, imageTokenCeiling } from './media-token-bounds.js';
import { DEFAULT_MAX_OUTPUT_TOKENS, modelMaximumOutputTokens } from './output-token-limits.js';

/** Begin-of-sequence, reply priming and any short default system text a provider or chat template adds. */
export const REQUEST_OVERHEAD_TOKENS = 64;
/** Role markers and separators around one message. */
export const MESSAGE_OVERHEAD_TOKENS = 16;
/** The tool-use instructions providers add once when tools are in play (Anthropic's is about 350 tokens). */
export const TOOLS_PROMPT_OVERHEAD_TOKENS = 1_024;
/** The wrapper around one tool definition or one tool call, beyond the bytes of its JSON. */
export const TOOL_OVERHEAD_TOKENS = 32;
/** Start/end tokens and instruction prefixes some embedding models add to each input. */
export const EMBEDDING_INPUT_OVERHEAD_TOKENS = 32;

/**
 * Request fields that never reach the model's prompt. Every other field, including unknown ones kept for
 * OpenAI-compatible upstreams (`response_format` schemas, `documents`, `prediction`, ...), is counted by the
 * byte length of its JSON, which over-counts harmlessly.
 */
const NON_PROMPT_FIELDS = new Set([
  'model',
  'messages',
  'tools',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'n',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'parallel_tool_calls',
  'user',
  'metadata',
  'store',
  'service_tier',
  'reasoning_effort',
]);

/** Message fields counted specially below; other message fields are counted by their JSON bytes. */
const COUNTED_MESSAGE_FIELDS = new Set(['role', 'content', 'name', 'tool_calls', 'tool_call_id']);

export interface InputTokenBoundOptions {
  /**
   * The model as sent upstream, when it differs from `request.model` (an alias or a provider prefix);
   * it selects model-specific image ceilings.
   */
  model?: string;
}

/** An upper bound on the input tokens of a chat or embeddings request, safe for every provider's tokenizer. */
export function inputTokenUpperBound(
  request: ChatCompletionRequest | EmbeddingRequest,
  options: InputTokenBoundOptions = {},
): number {
  const model = options.model ?? request.model ?? '';
  if ('input' in request && !('messages' in request)) return embeddingInputBound(request);
  const chat = request as ChatCompletionRequest;

  let tokens = REQUEST_OVERHEAD_TOKENS;
  let toolsInPlay = Array.isArray(chat.tools) && chat.tools.length > 0;
  for (const message of chat.messages ?? []) {
    tokens += messageBound(message, model);
    if ((message.tool_calls?.length ?? 0) > 0 || message.role === 'tool') toolsInPlay = true;
  }
  for (const tool of chat.tools ?? []) tokens += toolBound(tool);
  if (toolsInPlay) tokens += TOOLS_PROMPT_OVERHEAD_TOKENS;
  // for…in rather than Object.entries: no array per field on every request. Request bodies are plain objects
  // (parsed JSON), whose enumerable fields are all their own.
  for (const field in chat) {
    if (NON_PROMPT_FIELDS.has(field)) continue;
    const value = (chat as unknown as Record<string, unknown>)[field];
    if (value !== undefined && value !== null) tokens += jsonBytes(value);
  }
  return tokens;
}

/**
 * The most output tokens the request can be billed for: its `max_completion_tokens` or `max_tokens` (the larger
 * when both are set, as adapters differ in which they forward), else the model's own limit (OpenAI's from
 * gpt-tokenizer's data, other families from documented limits), else `DEFAULT_MAX_OUTPUT_TOKENS`; times `n`
 * when several choices are asked for, since each is capped separately. Embedding requests produce no output.
 */
export function maxOutputTokens(provider: string, model: string, request: ChatCompletionRequest | EmbeddingRequest): number {
  if ('input' in request && !('messages' in request)) return 0;
  const chat = request as ChatCompletionRequest;
  const requested = Math.max(positiveInteger(chat.max_completion_tokens) ?? 0, positiveInteger(chat.max_tokens) ?? 0);
  const perChoice = requested > 0 ? requested : (modelMaximumOutputTokens(provider, model) ?? DEFAULT_MAX_OUTPUT_TOKENS);
  return perChoice * (positiveInteger(chat.n) ?? 1);
}

function messageBound(message: ChatMessage, model: string): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS + contentBound(message.content, model);
  if (typeof message.name === 'string') tokens += utf8Bytes(message.name);
  if (typeof message.tool_call_id === 'string') tokens += utf8Bytes(message.tool_call_id);
  for (const call of message.tool_calls ?? []) {
    tokens += TOOL_OVERHEAD_TOKENS;
    // The door holds a function call's members to strings; a call of another kind is counted by its JSON.
    tokens += call.type === 'function' ? utf8Bytes(call.id) + utf8Bytes(call.function.name) + utf8Bytes(call.function.arguments) : jsonBytes(call);
  }
  // Reasoning text sent back (DeepSeek), refusals, and fields we do not know may all reach the prompt.
  for (const field in message) {
    if (COUNTED_MESSAGE_FIELDS.has(field)) continue;
    const value = (message as unknown as Record<string, unknown>)[field];
    if (value !== undefined && value !== null) tokens += jsonBytes(value);
  }
  return tokens;
}

function contentBound(content: ChatMessage['content'], model: string): number {
  if (typeof content === 'string') return utf8Bytes(content);
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content) {
    switch (part?.type) {
      case 'text':
        tokens += utf8Bytes(typeof part.text === 'string' ? part.text : '');
        break;
      case 'image_url':
        tokens += imageTokenCeiling(model);
        break;
      case 'input_audio':
        tokens += audioTokenBound(part);
        break;
      case 'file':
        tokens += fileTokenBound(part);
        break;
      default:
        // A part type we do not know: its JSON is at least as long as any text it carries.
        tokens += jsonBytes(part);
    }
  }
  return tokens;
}

function toolBound(tool: Tool): number {
  // Providers render the definition in their own syntax (OpenAI as TypeScript-like declarations, shorter than
  // the JSON); the JSON's bytes cover the names, descriptions and enum values that survive any rendering.
  return TOOL_OVERHEAD_TOKENS + jsonBytes(tool);
}

function embeddingInputBound(request: EmbeddingRequest): number {
  const input = request.input;
  if (typeof input === 'string') return EMBEDDING_INPUT_OVERHEAD_TOKENS + utf8Bytes(input);
  if (!Array.isArray(input) || input.length === 0) return 0;
  // An array of numbers is one input given as token ids; an array of arrays is several.
  if (typeof input[0] === 'number') return EMBEDDING_INPUT_OVERHEAD_TOKENS + input.length;
  let tokens = 0;
  for (const item of input as Array<string | number[]>) {
    tokens += EMBEDDING_INPUT_OVERHEAD_TOKENS + (typeof item === 'string' ? utf8Bytes(item) : Array.isArray(item) ? item.length : jsonBytes(item));
  }
  return tokens;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : utf8Bytes(json);
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : undefined;
}
