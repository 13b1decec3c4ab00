/**
 * The Azure OpenAI adapter: the OpenAI wire format at deployment URLs
 * (`<endpoint>/openai/deployments/<deployment>/…?api-version=…`), authenticated with an `api-key` or an Entra ID
 * bearer token.
 *
 * Secondary-key fallback: Azure resources have two keys so that one can be regenerated while the other serves.
 * After an attempt answered 401, the core asks `credentialFallback(response, context)`; a returned context is
 * used to build and send the same request once more (it carries `key2` as the key value), and undefined means
 * there is nothing to fall back to. See `secondaryKeyContext`.
 */
import { errors } from '../../spec/errors.js';
import type { AdapterFactory, AdapterOptions, ProviderAdapter, ProviderContext, UpstreamResponse } from '../../spec/provider.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';
import {
  buildChatBody,
  buildEmbeddingBody,
  buildHeaders,
  createCompatibleStreamDecoder,
  parseChatCompletion,
  parseEmbeddingResponse,
} from '../openai-compatible/index.js';
import { azureAuthHeaders, secondaryKeyContext } from './azure-auth.js';
import { parseAzureError } from './azure-errors.js';
import { filterAnnotationChunks } from './azure-stream.js';
import { azureDeployment, azureOperationUrl, takesMaxCompletionTokens } from './azure-url.js';
import { DEFAULT_AUTHORITY_HOST, EntraTokenCache } from './entra-token-cache.js';

export { secondaryKeyContext } from './azure-auth.js';

/** Model names commonly deployed on Azure OpenAI (deployment names are the operator's choice). */
export const AZURE_KNOWN_MODELS: readonly string[] = [
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4o',
  'gpt-4o-mini',
  'o3-mini',
  'o4-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'text-embedding-ada-002',
];

/**
 * As at OpenAI, `max_tokens` is refused by reasoning deployments while `max_completion_tokens` means the same for
 * every chat model; the translated routes (Messages, Responses) write `max_tokens`. Only for api-versions that know
 * the newer name.
 */
const CURRENT_VERSION_RULES = { renameFields: { max_tokens: 'max_completion_tokens' } } as const;

/** The Azure adapter, with the secondary-key fallback hook beside the standard seam. */
export interface AzureAdapter extends ProviderAdapter {
  /**
   * The context for one retry with other credentials after `response` refused the attempt made with `context`
   * (Azure: a 401 and a `key2` to try), or undefined. The retry's own 401 yields undefined, so it happens once.
   */
  credentialFallback(response: UpstreamResponse, context: ProviderContext): ProviderContext | undefined;
}

/** Creates the Azure OpenAI adapter; its Entra token cache lives as long as the adapter. */
export function createAzureAdapter(options: AdapterOptions): AzureAdapter {
  const tokens = new EntraTokenCache(options.azureAuthorityHost || DEFAULT_AUTHORITY_HOST);

  const headersFor = async (context: ProviderContext, stream: boolean): Promise<Record<string, string>> => ({
    ...buildHeaders({ stream, extraHeaders: context.provider.network.extraHeaders }),
    // Auth goes last so that no configured extra header can replace it.
    ...(await azureAuthHeaders(context, tokens)),
  });

  return {
    type: 'azure',
    displayName: 'Azure OpenAI',
    // Every resource has its own endpoint, taken from the key (or the provider's base_url).
    defaultBaseUrl: '',
    credentialStyle: 'value-or-config',
    knownModels: AZURE_KNOWN_MODELS,
    chat: {
      async buildRequest(request, context, { stream, source }) {
        return {
          method: 'POST',
          url: azureOperationUrl(context, 'chat/completions'),
          headers: await headersFor(context, stream),
          // The deployment in the URL decides the model; the body's model is ignored by Azure.
          body: serializeWithSource(
            buildChatBody(request, { model: azureDeployment(context), stream, rules: takesMaxCompletionTokens(context) ? CURRENT_VERSION_RULES : undefined }),
            source,
          ),
        };
      },
      parseResponse(response) {
        return parseChatCompletion(response.body);
      },
      createStreamDecoder(context) {
        return filterAnnotationChunks(createCompatibleStreamDecoder({ secrets: [context.key.value, context.key.azure?.key2] }));
      },
    },
    embeddings: {
      async buildRequests(request, context) {
        return [
          {
            method: 'POST',
            url: azureOperationUrl(context, 'embeddings'),
            headers: await headersFor(context, false),
            body: JSON.stringify(buildEmbeddingBody(request, { model: azureDeployment(context), rules: { acceptTokenInputs: true } })),
          },
        ];
      },
      parseResponses(responses, request) {
        const [response] = responses;
        if (response === undefined) throw errors.internal('No Azure embeddings reply to parse.');
        return parseEmbeddingResponse(response.body, request);
      },
    },
    parseError: parseAzureError,
    credentialFallback: secondaryKeyContext,
  };
}

// The factory is an AdapterFactory; the fallback hook is an addition the seam does not name yet.
createAzureAdapter satisfies AdapterFactory;
