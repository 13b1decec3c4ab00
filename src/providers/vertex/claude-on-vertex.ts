/**
 * Claude on Vertex AI (reference §5.6): the Anthropic Messages body without `model`, with
 * `anthropic_version: "vertex-2023-10-16"` in the body, sent to `:rawPredict` / `:streamRawPredict`.
 * Replies, stream events and model errors are Anthropic's; failures before the model (auth, quota, routing)
 * come in Google's error shape.
 */
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ChatResult, ProviderContext, StreamDecoder, UpstreamError, UpstreamResponse } from '../../spec/provider.js';
import {
  chatRequestToMessages,
  createMessageStreamDecoder,
  defaultMaxTokensFor,
  isAnthropicErrorBody,
  messageReplyToChatResult,
  nativeMessagesBody,
  parseAnthropicError,
} from '../anthropic-format/index.js';
import { parseGoogleError } from '../gemini-format/google-error.js';

/** The version Vertex requires in the body of every Claude request. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** The rawPredict body for a chat request to the Claude model `model` (the deployed id, `@date` included). */
export function claudeRawPredictBody(request: ChatCompletionRequest, model: string, stream: boolean): Record<string, unknown> {
  const messages = chatRequestToMessages(request, { model, defaultMaxTokens: defaultMaxTokensFor(model) });
  // Vertex names the model in the URL and refuses it in the body.
  const { model: _model, stream: _stream, ...rest } = messages;
  return { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest, ...(stream ? { stream: true } : {}) };
}

/**
 * The rawPredict body of a native Messages request (see `NativeRequest`): the client's members that travel, as
 * sent, with Vertex's version and without a model, which Vertex names in the URL.
 */
export function claudeNativeBody(client: Record<string, unknown>, stream: boolean): Record<string, unknown> {
  return { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...nativeMessagesBody(client, undefined, stream) };
}

/**
 * The body of a `count-tokens:rawPredict` request: the client's count request (a Messages body without
 * `max_tokens`) with the deployed model, which this endpoint, unlike rawPredict, reads from the body.
 */
export function claudeCountTokensBody(messages: Record<string, unknown>, model: string): Record<string, unknown> {
  return { ...messages, model, anthropic_version: VERTEX_ANTHROPIC_VERSION };
}

/** Translates a successful rawPredict reply. */
export function parseClaudeResponse(response: UpstreamResponse, context: ProviderContext): ChatResult {
  return messageReplyToChatResult(response.body, context, 'Vertex AI (Claude)');
}

/** The decoder for a streamRawPredict reply (Anthropic SSE events); `native` for a native request. */
export function createClaudeStreamDecoder(context: ProviderContext, secrets: readonly (string | undefined)[], native = false): StreamDecoder {
  return createMessageStreamDecoder(context, secrets, native);
}

/** Maps a Claude-on-Vertex error in whichever of the two shapes it came. */
export function parseClaudeError(response: UpstreamResponse, context: ProviderContext, secrets: readonly (string | undefined)[]): UpstreamError {
  if (isAnthropicErrorBody(response.body)) return parseAnthropicError(response, { secrets, now: context.now() });
  return parseGoogleError(response, { secrets, now: context.now() });
}
