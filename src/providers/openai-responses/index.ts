/**
 * OpenAI's Responses API spoken as written (see `NativeRequest`), shared by the adapters whose servers serve it:
 * OpenAI's own, and Azure OpenAI's v1 API. Each adapter addresses and authenticates its requests; the body, the reply's
 * soundness and the stream's decoding are the same.
 */
export { nativeResponsesBody } from './body.js';
export { parseNativeResponse } from './reply.js';
export { createResponsesStreamDecoder } from './stream.js';
