/** OpenAI's Responses API over the canonical chat path: the request in, the Response (or its events) out. */
export { responsesRequestToChat, untranslatedInputTokens } from './request.js';
export { chatCompletionToResponse, responseEchoOf, responseIdFor, type ResponseEcho } from './response.js';
export { createResponsesStreamEncoder, type ResponsesStreamEncoder } from './stream-encoder.js';
export { tokenCountBodyOf } from './token-count-body.js';
