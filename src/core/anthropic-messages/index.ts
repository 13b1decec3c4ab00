/** Tollgate's Anthropic-compatible `POST /v1/messages`: conversion between the Messages format and the canonical chat format. */
export { anthropicErrorBody, anthropicErrorType, type AnthropicErrorInput } from './error-body.js';
export { messagesRequestToChat, type MessagesToChatOptions } from './request.js';
export { chatCompletionToMessage, messageIdFor, tokenUsageToAnthropicUsage } from './response.js';
export { createMessagesStreamEncoder, type MessagesStreamEncoder, type MessagesStreamEncoderOptions } from './stream-encoder.js';
