/** The Anthropic Messages wire format, shared by every adapter that speaks it (Anthropic, Claude on Vertex, ...). */
export { createMessageStreamDecoder, messageReplyToChatResult } from './attempt.js';
export { messagesHeaders } from './headers.js';
export { isAnthropicErrorBody, parseAnthropicError, parseAnthropicStreamError, type ParseAnthropicErrorOptions } from './errors.js';
export { filePartToBlock, imageUrlToBlock, parseDataUri, type DataUri } from './media.js';
export { defaultMaxTokensFor } from './models.js';
export { nativeMessagesBody } from './native-body.js';
export { chatRequestToMessages, type ChatToMessagesOptions } from './request.js';
export { anthropicUsageToTokenUsage, isSoundMessage, messageShapeProblem, messageToChatCompletion, readAnthropicMessage, type MessageToChatOptions } from './response.js';
export { finishReasonFromStopReason, stopReasonFromFinishReason } from './stop-reason.js';
export { createAnthropicStreamDecoder, type AnthropicStreamDecoder, type AnthropicStreamDecoderOptions } from './stream.js';
