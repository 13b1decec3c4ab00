/**
 * The Cohere adapter: chat over `POST /v2/chat` (plain and SSE) and embeddings over `POST /v2/embed`,
 * authenticated with a bearer API key.
 */
import { readReplyJson } from '../../spec/reply-json.js';
import type {
  AdapterFactory,
  ProviderAdapter,
  ProviderContext,
  UpstreamRequest,
  UpstreamResponse,
} from '../../spec/provider.js';
import { toCohereChatRequest } from './chat-request.js';
import { fromCohereChatResponse } from './chat-response.js';
import { fromCohereEmbedResponses, toCohereEmbedBodies } from './embeddings.js';
import { parseCohereError } from './error.js';
import { createCohereStreamDecoder } from './stream-decoder.js';
import type { CohereChatResponse, CohereEmbedResponse } from './wire-types.js';

/** Cohere's API origin, used when the provider has no `base_url`. */
export const COHERE_DEFAULT_BASE_URL = 'https://api.cohere.com';

const KNOWN_MODELS = [
  'command-a-03-2025',
  'command-a-reasoning-08-2025',
  'command-a-vision-07-2025',
  'command-r-plus-08-2024',
  'command-r-08-2024',
  'command-r7b-12-2024',
  'embed-v4.0',
  'embed-english-v3.0',
  'embed-multilingual-v3.0',
  'embed-english-light-v3.0',
  'embed-multilingual-light-v3.0',
] as const;

/** Creates the Cohere v2 adapter. */
export const createCohereAdapter: AdapterFactory = () => {
  const adapter: ProviderAdapter = {
    type: 'cohere',
    displayName: 'Cohere',
    defaultBaseUrl: COHERE_DEFAULT_BASE_URL,
    credentialStyle: 'value',
    knownModels: KNOWN_MODELS,
    chat: {
      async buildRequest(request, context, options) {
        const body = toCohereChatRequest(request, context.model, options);
        return post(context, '/v2/chat', body, options.stream ? 'text/event-stream' : 'application/json');
      },
      parseResponse(response, context) {
        return fromCohereChatResponse(readJson<CohereChatResponse>(response), context);
      },
      createStreamDecoder(context) {
        return createCohereStreamDecoder(context);
      },
    },
    embeddings: {
      async buildRequests(request, context) {
        return toCohereEmbedBodies(request, context.model).map((body) => post(context, '/v2/embed', body, 'application/json'));
      },
      parseResponses(responses, request, context) {
        const bodies = toCohereEmbedBodies(request, context.model);
        return fromCohereEmbedResponses(responses.map((response) => readJson<CohereEmbedResponse>(response)), bodies, context.model);
      },
    },
    parseError(response) {
      return parseCohereError(response);
    },
  };
  return adapter;
};

function post(context: ProviderContext, path: string, body: unknown, accept: string): UpstreamRequest {
  const base = (context.provider.network.baseUrl ?? COHERE_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return {
    method: 'POST',
    url: `${base}${path}`,
    headers: {
      ...context.provider.network.extraHeaders,
      'content-type': 'application/json',
      accept,
      'x-client-name': 'tollgate',
      // Set last so that configured extra headers can never replace the credential.
      authorization: `Bearer ${context.key.value}`,
    },
    body: JSON.stringify(body),
  };
}

function readJson<T>(response: UpstreamResponse): T {
  return readReplyJson(response.body, 'Cohere') as T;
}
