import type { ChatCompletionRequest } from '../../spec/openai.js';
import { chatRequestToMessages } from '../../providers/anthropic-format/index.js';

/**
 * The count request of the token-count service (a Messages body without `max_tokens`) for a Responses request
 * already translated to chat: the one form every counter reads, Anthropic's as it is and the others through its
 * chat form. The model stays as the client named it, for the service to route.
 */
export function tokenCountBodyOf(chat: ChatCompletionRequest): Record<string, unknown> & { model: string } {
  const { max_tokens: _maxTokens, stream: _stream, ...body } = chatRequestToMessages({ ...chat, stream: false }, { defaultMaxTokens: 1 });
  return body;
}
