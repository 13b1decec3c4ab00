/**
 * The shared machinery of every OpenAI-compatible provider. A provider folder describes its server
 * (`CompatibleDescription`) and gets a full adapter from `createCompatibleAdapter`. The pieces are exported
 * too, for adapters that speak the OpenAI wire format with their own URLs and auth (Azure).
 */
import type { ProviderAdapter } from '../../spec/provider.js';
import type { CompatibleDescription } from './description.js';
import { createEmbeddingOperation } from './embeddings.js';
import { parseCompatibleError } from './errors.js';
import { buildChatRequest } from './request.js';
import { parseChatCompletion } from './response.js';
import { createCompatibleStreamDecoder } from './stream.js';

export type {
  ChatRequestRules,
  CompatibleDescription,
  EmbeddingRequestRules,
  ErrorStatusOverride,
} from './description.js';
export {
  CHAT_COMPLETIONS_PATH,
  buildChatBody,
  buildChatRequest,
  buildHeaders,
  joinUrl,
  resolveBaseUrl,
  resolveUpstreamModel,
  withFieldRules,
} from './request.js';
export { normalizeChoices, normalizeFinishReason, parseChatCompletion, parseJsonObject, readUsage } from './response.js';
export { createCompatibleStreamDecoder, type CompatibleStreamOptions } from './stream.js';
export {
  extractErrorDetails,
  mapUpstreamStatus,
  parseCompatibleError,
  redactSecrets,
  streamErrorFromPayload,
  toUpstreamError,
  type ErrorDetails,
} from './errors.js';
export {
  EMBEDDINGS_PATH,
  buildEmbeddingBody,
  buildEmbeddingRequest,
  createEmbeddingOperation,
  parseEmbeddingResponse,
} from './embeddings.js';

/** Builds a complete adapter for an OpenAI-compatible server from its description. */
export function createCompatibleAdapter(description: CompatibleDescription): ProviderAdapter {
  const adapter: ProviderAdapter = {
    type: description.type,
    displayName: description.displayName,
    defaultBaseUrl: description.defaultBaseUrl,
    credentialStyle: description.credentialStyle,
    knownModels: description.knownModels,
    chat: {
      async buildRequest(request, context, options) {
        return buildChatRequest(description, request, context, options);
      },
      parseResponse(response) {
        return parseChatCompletion(response.body, { finishReasons: description.finishReasons });
      },
      createStreamDecoder(context) {
        return createCompatibleStreamDecoder({
          finishReasons: description.finishReasons,
          errorStatusOverrides: description.errorStatusOverrides,
          secrets: [context.key.value],
        });
      },
    },
    parseError(response, context) {
      return parseCompatibleError(response, context, description.errorStatusOverrides);
    },
  };
  if (description.embeddingsPath !== null) adapter.embeddings = createEmbeddingOperation(description);
  return adapter;
}
