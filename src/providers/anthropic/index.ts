/**
 * The Anthropic adapter: chat over `POST /v1/messages` (plain and SSE) with an `x-api-key`, translated by the
 * shared Anthropic-format code. Anthropic offers no embeddings.
 */
import { readAnthropicBetas } from '../../spec/anthropic-beta.js';
import type { AdapterFactory, ProviderAdapter, ProviderContext } from '../../spec/provider.js';
import {
  chatRequestToMessages,
  createMessageStreamDecoder,
  defaultMaxTokensFor,
  messageReplyToChatResult,
  messagesHeaders,
  nativeMessagesBody,
  parseAnthropicError,
} from '../anthropic-format/index.js';
import { readTokenCountReply } from '../../spec/reply-json.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';

/** Anthropic's API origin, used when the provider has no `base_url`. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** The API version Tollgate's translation is written against (it still accepts temperature and top_p). */
export const ANTHROPIC_API_VERSION = '2023-06-01';

/** Current Claude model ids and aliases (as listed by @anthropic-ai/sdk 1.12). */
const KNOWN_MODELS = [
  'claude-fable-5-2',
  'claude-fable-5-1',
  'claude-fable-5',
  'claude-mythos-5-2',
  'claude-mythos-5-1',
  'claude-mythos-5',
  'claude-mythos-preview',
  'claude-opus-5-5',
  'claude-opus-5',
  'claude-sonnet-5-5',
  'claude-sonnet-5',
  'claude-haiku-5-5',
  'claude-opus-4-8',
  'claude-opus-4-7',
  'claude-opus-4-6',
  'claude-sonnet-4-6',
  'claude-opus-4-5',
  'claude-opus-4-5-20251101',
  'claude-sonnet-4-5',
  'claude-sonnet-4-5-20250929',
  'claude-haiku-4-5',
  'claude-haiku-4-5-20251001',
] as const;

function secretsOf(context: ProviderContext): string[] {
  return [context.key.value];
}

/** Creates the Anthropic adapter. */
export const createAnthropicAdapter: AdapterFactory = () => {
  /** The headers of every Anthropic request: the configured extras, then ours (the credential and version win). */
  const headersFor = (context: ProviderContext, accept: string, betas?: readonly string[]): Record<string, string> => {
    const headers = messagesHeaders(context.provider.network.extraHeaders, accept, betas);
    // Set after the extra headers: the translation is written for this version, and the credential is ours.
    headers['anthropic-version'] = ANTHROPIC_API_VERSION;
    headers['x-api-key'] = context.key.value;
    return headers;
  };
  const baseOf = (context: ProviderContext): string => (context.provider.network.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const adapter: ProviderAdapter = {
    type: 'anthropic',
    displayName: 'Anthropic',
    defaultBaseUrl: ANTHROPIC_DEFAULT_BASE_URL,
    credentialStyle: 'value',
    knownModels: KNOWN_MODELS,
    chat: {
      nativeFormats: ['anthropic-messages'],
      async buildRequest(request, context, options) {
        const accept = options.stream ? 'text/event-stream' : 'application/json';
        const url = `${baseOf(context)}/v1/messages`;
        const native = options.native;
        if (native !== undefined) {
          return { method: 'POST', url, headers: headersFor(context, accept, native.betas), body: serializeWithSource(nativeMessagesBody(native.body, context.model, options.stream), native.source) };
        }
        const headers = headersFor(context, accept, readAnthropicBetas(request.anthropic_beta, 'anthropic_beta'));
        const body = chatRequestToMessages(request, { model: context.model, defaultMaxTokens: defaultMaxTokensFor(context.model) });
        if (options.stream) body.stream = true;
        else delete body.stream;
        return { method: 'POST', url, headers, body: JSON.stringify(body) };
      },
      parseResponse(response, context) {
        return messageReplyToChatResult(response.body, context, 'Anthropic');
      },
      createStreamDecoder(context, options) {
        return createMessageStreamDecoder(context, secretsOf(context), options?.native === true);
      },
    },
    countTokens: {
      buildRequest(request, context) {
        const body = JSON.stringify({ ...request.messages, model: context.model });
        return { method: 'POST', url: `${baseOf(context)}/v1/messages/count_tokens`, headers: headersFor(context, 'application/json', request.betas), body };
      },
      parseResponse(response) {
        return readTokenCountReply(response.body, 'input_tokens', 'Anthropic');
      },
    },
    parseError(response, context) {
      return parseAnthropicError(response, { secrets: secretsOf(context), now: context.now() });
    },
  };
  return adapter;
};
