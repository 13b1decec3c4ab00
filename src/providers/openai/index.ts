/**
 * OpenAI itself: the reference server, so the compatible adapter applies with one rename; and OpenAI's Responses API,
 * which takes a client's `/v1/responses` request as written (see `NativeRequest`).
 */
import type { AdapterFactory, ProviderAdapter, ProviderContext } from '../../spec/provider.js';
import { readTokenCountReply } from '../../spec/reply-json.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';
import { createResponsesStreamDecoder, parseNativeResponse } from '../openai-responses/index.js';
import { buildNativeResponsesRequest, buildResponsesCountRequest } from './responses-request.js';

const OPENAI_RULES = { renameFields: { max_tokens: 'max_completion_tokens' } } as const;

/** How Tollgate talks to api.openai.com. */
export const openAIDescription: CompatibleDescription = {
  type: 'openai',
  displayName: 'OpenAI',
  defaultBaseUrl: 'https://api.openai.com',
  credentialStyle: 'value',
  knownModels: [
    'gpt-5',
    'gpt-5-mini',
    'gpt-5-nano',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-4.1-nano',
    'gpt-4o',
    'gpt-4o-mini',
    'o3',
    'o4-mini',
    'text-embedding-3-small',
    'text-embedding-3-large',
    'text-embedding-ada-002',
  ],
  // max_tokens is deprecated at OpenAI and refused by its reasoning models (o-series, gpt-5), while
  // max_completion_tokens means the same for every chat model: clients, and the Messages and Responses
  // translations, may send the older name, which every other server knows. Custom providers built on this
  // adapter (a local server speaking OpenAI's format) get the body as sent: not every such server knows the newer name.
  chatRulesFor: (context) => (isOpenAIItself(context.provider.name) ? OPENAI_RULES : undefined),
  // OpenAI embeds token-id arrays natively.
  embeddingRules: { acceptTokenInputs: true },
};

/**
 * Whether a provider is OpenAI's own API (the built-in `openai` provider) rather than a custom provider on this
 * adapter, whose server may know only chat completions: only OpenAI itself gets the rename above, Responses requests
 * as written and its input-token counter.
 */
function isOpenAIItself(providerName: string): boolean {
  return providerName === 'openai';
}

/** Creates the OpenAI adapter. */
export const createOpenAIAdapter: AdapterFactory = () => {
  const compatible = createCompatibleAdapter(openAIDescription);
  const chat = compatible.chat;
  const adapter: ProviderAdapter = {
    ...compatible,
    chat: {
      nativeFormats: ['openai-responses'],
      takesNative: (context: ProviderContext) => isOpenAIItself(context.provider.name),
      // Not async: a chat request (every request of the chat route) takes the compatible adapter's promise as it is,
      // without a second async frame around it.
      buildRequest(request, context, options) {
        const native = options.native;
        if (native !== undefined) return Promise.resolve(buildNativeResponsesRequest(openAIDescription, native.body, context, { stream: options.stream, source: native.source }));
        return chat.buildRequest(request, context, options);
      },
      parseResponse(response, context, options) {
        return options?.native === true ? parseNativeResponse(response.body) : chat.parseResponse(response, context, options);
      },
      createStreamDecoder(context, options) {
        return options?.native === true ? createResponsesStreamDecoder({ secrets: [context.key.value] }) : chat.createStreamDecoder(context, options);
      },
    },
    // OpenAI counts a Responses request's input itself (reasoning items, images and tools included); other counts,
    // and custom providers on this adapter, are estimated.
    countTokens: {
      counts: (_model, request) => isOpenAIItself(request.provider) && request.native?.format === 'openai-responses',
      buildRequest(request, context) {
        return buildResponsesCountRequest(openAIDescription, request.native?.body ?? {}, context);
      },
      parseResponse(response) {
        return readTokenCountReply(response.body, 'input_tokens', 'OpenAI');
      },
    },
  };
  return adapter;
};
