/**
 * The Google Gemini API (AI Studio) adapter: `POST /v1beta/models/<model>:generateContent`, its SSE twin
 * `:streamGenerateContent?alt=sse`, `:batchEmbedContents` and `:countTokens`, authenticated with the `x-goog-api-key`
 * header.
 */
import type { AdapterFactory, ProviderAdapter, ProviderContext, UpstreamRequest } from '../../spec/provider.js';
import { chatRequestToGenerateContent } from '../gemini-format/chat-request-to-generate-content.js';
import { buildBatchEmbedContentsBodies, parseBatchEmbedContents } from '../gemini-format/embeddings.js';
import { createGeminiStreamDecoder } from '../gemini-format/gemini-stream-decoder.js';
import { generateContentToChatCompletion } from '../gemini-format/generate-content-to-chat-completion.js';
import { parseGoogleError } from '../gemini-format/google-error.js';
import { readGoogleJson } from '../gemini-format/read-google-json.js';
import type { GenerateContentResponse } from '../gemini-format/types.js';
import { readTokenCountReply } from '../../spec/reply-json.js';

/** The Gemini API origin, used when the provider has no `base_url`. */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

const KNOWN_MODELS = [
  'gemini-3-pro-preview',
  'gemini-3-flash-preview',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash',
  'gemini-2.0-flash-lite',
  'gemini-embedding-001',
  'text-embedding-004',
] as const;

/** `models/<id>` for a bare id; ids already naming a collection (`models/…`, `tunedModels/…`) stay as they are. */
export function geminiModelResource(model: string): string {
  return /^(models|tunedModels)\//.test(model) ? model : `models/${model}`;
}

/** The model id without a `models/` prefix, as the translation and the client-facing responses use it. */
function bareModel(model: string): string {
  return model.replace(/^models\//, '');
}

function post(context: ProviderContext, method: string, body: unknown, stream: boolean): UpstreamRequest {
  const base = (context.provider.network.baseUrl ?? GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const resource = geminiModelResource(context.model)
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  const headers: Record<string, string> = {};
  // Lower-cased so a configured header cannot sit beside ours under another spelling.
  for (const [name, value] of Object.entries(context.provider.network.extraHeaders)) headers[name.toLowerCase()] = value;
  headers['content-type'] = 'application/json';
  headers.accept = stream ? 'text/event-stream' : 'application/json';
  // Set last so that configured extra headers can never replace the credential.
  headers['x-goog-api-key'] = context.key.value;
  return { method: 'POST', url: `${base}/v1beta/${resource}:${method}${stream ? '?alt=sse' : ''}`, headers, body: JSON.stringify(body) };
}

/** Creates the Gemini API adapter. */
export const createGeminiAdapter: AdapterFactory = () => {
  const adapter: ProviderAdapter = {
    type: 'gemini',
    displayName: 'Google Gemini',
    defaultBaseUrl: GEMINI_DEFAULT_BASE_URL,
    credentialStyle: 'value',
    knownModels: KNOWN_MODELS,
    chat: {
      async buildRequest(request, context, options) {
        const body = chatRequestToGenerateContent(request, { model: bareModel(context.model) });
        return post(context, options.stream ? 'streamGenerateContent' : 'generateContent', body, options.stream);
      },
      parseResponse(response, context) {
        const body = readGoogleJson<GenerateContentResponse>(response, 'Gemini');
        return generateContentToChatCompletion(body, { model: context.model, now: context.now() });
      },
      createStreamDecoder(context) {
        return createGeminiStreamDecoder({ model: context.model, now: context.now, secrets: [context.key.value] });
      },
    },
    embeddings: {
      async buildRequests(request, context) {
        return buildBatchEmbedContentsBodies(request, bareModel(context.model)).map((body) =>
          post(context, 'batchEmbedContents', body, false),
        );
      },
      parseResponses(responses, request, context) {
        return parseBatchEmbedContents(
          responses.map((response) => readGoogleJson<unknown>(response, 'Gemini')),
          context.model,
          request,
        );
      },
    },
    countTokens: {
      buildRequest(request, context) {
        // The whole request to count, as generateContent would take it: system instruction and tools count too.
        const generateContentRequest = { model: geminiModelResource(context.model), ...chatRequestToGenerateContent(request.chat, { model: bareModel(context.model) }) };
        return post(context, 'countTokens', { generateContentRequest }, false);
      },
      parseResponse(response) {
        return readTokenCountReply(response.body, 'totalTokens', 'Gemini');
      },
    },
    parseError(response, context) {
      return parseGoogleError(response, { now: context.now(), secrets: [context.key.value] });
    },
  };
  return adapter;
};
