/**
 * The Azure OpenAI adapter: the OpenAI wire format at deployment URLs
 * (`<endpoint>/openai/deployments/<deployment>/…?api-version=…`), or, for keys on Azure's v1 API (api-version `v1` or
 * `preview`), at `<endpoint>/openai/v1/…`, where a client's Responses request also goes as written (see
 * `NativeRequest`); authenticated with an `api-key` or an Entra ID bearer token. Claude deployments (Claude in
 * Microsoft Foundry) take Anthropic's Messages API at `<endpoint>/anthropic/v1/messages`, where a client's Messages
 * request goes as written (see `claude-on-azure.ts`).
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
import { createResponsesStreamDecoder, nativeResponsesBody, parseNativeResponse } from '../openai-responses/index.js';
import { azureAuthHeaders, secondaryKeyContext } from './azure-auth.js';
import { parseAzureError } from './azure-errors.js';
import { filterAnnotationChunks } from './azure-stream.js';
import { azureDeployment, azureOperationUrl, isAzureV1, takesMaxCompletionTokens } from './azure-url.js';
import {
  azureSecrets,
  claudeOnAzureRequest,
  createClaudeOnAzureStreamDecoder,
  isClaudeOnAzure,
  parseClaudeOnAzureError,
  parseClaudeOnAzureResponse,
} from './claude-on-azure.js';
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
  const tokens = new EntraTokenCache(options.azureAuthorityHost || DEFAULT_AUTHORITY_HOST, options.azureIdentity);

  const headersFor = async (context: ProviderContext, stream: boolean): Promise<Record<string, string>> => {
    const headers = buildHeaders({ stream, extraHeaders: context.provider.network.extraHeaders });
    // Auth goes last, and a configured credential header is dropped, so that no extra header can replace the
    // credential or travel beside it.
    if ('api-key' in headers) delete headers['api-key'];
    if ('authorization' in headers) delete headers.authorization;
    return Object.assign(headers, await azureAuthHeaders(context, tokens));
  };

  return {
    type: 'azure',
    displayName: 'Azure OpenAI',
    // Every resource has its own endpoint, taken from the key (or the provider's base_url).
    defaultBaseUrl: '',
    credentialStyle: 'value-or-config',
    knownModels: AZURE_KNOWN_MODELS,
    chat: {
      // Claude deployments take a Messages request as written. Azure serves the Responses API on its v1 API only: there
      // a client's Responses request goes as written, with the deployment as its model; keys on a dated api-version
      // translate it to chat completions.
      nativeFormats: ['openai-responses', 'anthropic-messages'],
      takesNative: (context, format) => (format === 'anthropic-messages' ? isClaudeOnAzure(context) : !isClaudeOnAzure(context) && isAzureV1(context)),
      async buildRequest(request, context, { stream, source, native }) {
        if (isClaudeOnAzure(context)) return claudeOnAzureRequest(request, context, tokens, { stream, native });
        if (native !== undefined) {
          return {
            method: 'POST',
            url: azureOperationUrl(context, 'responses'),
            headers: await headersFor(context, stream),
            body: serializeWithSource(nativeResponsesBody(native.body, azureDeployment(context), stream), native.source),
          };
        }
        return {
          method: 'POST',
          url: azureOperationUrl(context, 'chat/completions'),
          headers: await headersFor(context, stream),
          // The classic path's deployment decides the model and Azure ignores the body's; the v1 API reads it from the body.
          body: serializeWithSource(
            buildChatBody(request, { model: azureDeployment(context), stream, rules: takesMaxCompletionTokens(context) ? CURRENT_VERSION_RULES : undefined }),
            source,
          ),
        };
      },
      parseResponse(response, context, options) {
        if (isClaudeOnAzure(context)) return parseClaudeOnAzureResponse(response, context);
        return options?.native === true ? parseNativeResponse(response.body) : parseChatCompletion(response.body);
      },
      createStreamDecoder(context, options) {
        const native = options?.native === true;
        if (isClaudeOnAzure(context)) return createClaudeOnAzureStreamDecoder(context, native);
        const secrets = azureSecrets(context);
        if (native) return createResponsesStreamDecoder({ secrets, upstream: 'Azure OpenAI' });
        return filterAnnotationChunks(createCompatibleStreamDecoder({ secrets }));
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
    parseError: (response, context) => (isClaudeOnAzure(context) ? parseClaudeOnAzureError(response, context) : parseAzureError(response, context)),
    credentialFallback: secondaryKeyContext,
  };
}

// The factory is an AdapterFactory; the fallback hook is an addition the seam does not name yet.
createAzureAdapter satisfies AdapterFactory;
