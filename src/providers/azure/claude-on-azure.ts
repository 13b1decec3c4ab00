/**
 * Claude deployments on an Azure resource (Claude in Microsoft Foundry): Anthropic's Messages API at
 * `<endpoint>/anthropic/v1/messages`, the deployment named by the body's `model`, with the resource's key as
 * `x-api-key` or an Entra ID bearer token (scope `https://ai.azure.com/.default` unless the key names its scopes).
 * Replies, stream events and model errors are Anthropic's; a refusal before the request reaches Claude (Azure's
 * front door: a wrong key, an unknown resource) comes in Azure's error shape.
 */
import { readAnthropicBetas } from '../../spec/anthropic-beta.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ChatResult, NativeRequest, ProviderContext, StreamDecoder, UpstreamError, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { serializeWithSource } from '../../spec/serialize-with-source.js';
import {
  chatRequestToMessages,
  createMessageStreamDecoder,
  defaultMaxTokensFor,
  isAnthropicErrorBody,
  messageReplyToChatResult,
  messagesHeaders,
  nativeMessagesBody,
  parseAnthropicError,
} from '../anthropic-format/index.js';
import { parseAzureError } from './azure-errors.js';
import { azureDeployment, azureEndpoint } from './azure-url.js';
import { entraClientOf, FOUNDRY_SCOPE, type EntraTokenCache } from './entra-token-cache.js';

/** The Messages API version Tollgate's translation is written against, which Foundry's Anthropic surface requires. */
export const FOUNDRY_ANTHROPIC_VERSION = '2023-06-01';

/**
 * Whether the attempt goes to a Claude deployment: the deployment or the model the client named is a Claude one
 * (Foundry's default deployment names are the model ids). Deployment names are the operator's choice, so one naming
 * neither is served as an OpenAI deployment.
 */
export function isClaudeOnAzure(context: ProviderContext): boolean {
  return /claude/i.test(azureDeployment(context)) || /claude/i.test(context.model);
}

/** The values of a key that must never appear in an error message. */
export function azureSecrets(context: ProviderContext): (string | undefined)[] {
  return [context.key.value, context.key.azure?.key2, context.key.azure?.clientSecret];
}

/**
 * The request to a Claude deployment: the client's Messages body as written (`native`), or the chat request
 * translated, under the deployment's name.
 */
export async function claudeOnAzureRequest(
  request: ChatCompletionRequest,
  context: ProviderContext,
  tokens: EntraTokenCache,
  options: { stream: boolean; native?: NativeRequest },
): Promise<UpstreamRequest> {
  const deployment = azureDeployment(context);
  const url = `${azureEndpoint(context)}/anthropic/v1/messages`;
  const native = options.native;
  if (native !== undefined) {
    const body = nativeMessagesBody(native.body, deployment, options.stream);
    return { method: 'POST', url, headers: await claudeHeaders(context, tokens, options.stream, native.betas), body: serializeWithSource(body, native.source) };
  }
  // The output limit by the Claude model's id: the name the client asked for when it is one (a deployment's name is the
  // operator's own), else the deployment's (Foundry names deployments after their model by default).
  const limitModel = /claude/i.test(context.model) ? context.model : deployment;
  const body = chatRequestToMessages(request, { model: deployment, defaultMaxTokens: defaultMaxTokensFor(limitModel) });
  if (options.stream) body.stream = true;
  else delete body.stream;
  const betas = readAnthropicBetas(request.anthropic_beta, 'anthropic_beta');
  return { method: 'POST', url, headers: await claudeHeaders(context, tokens, options.stream, betas), body: JSON.stringify(body) };
}

/** The headers of a request to a Claude deployment: the configured extras, then the version and the credential. */
async function claudeHeaders(context: ProviderContext, tokens: EntraTokenCache, stream: boolean, betas: readonly string[] | undefined): Promise<Record<string, string>> {
  const headers = messagesHeaders(context.provider.network.extraHeaders, stream ? 'text/event-stream' : 'application/json', betas);
  headers['anthropic-version'] = FOUNDRY_ANTHROPIC_VERSION;
  // Set last, and the other credential header dropped, so that no configured extra header can replace the credential or
  // travel beside it. Entra client credentials, when complete, win over a key value, as for the resource's OpenAI
  // deployments.
  const client = entraClientOf(context, FOUNDRY_SCOPE);
  if (client !== undefined) {
    delete headers['x-api-key'];
    headers.authorization = `Bearer ${await tokens.token(client, context)}`;
  } else {
    delete headers.authorization;
    headers['x-api-key'] = context.key.value;
  }
  return headers;
}

/** Translates a Claude deployment's reply. */
export function parseClaudeOnAzureResponse(response: UpstreamResponse, context: ProviderContext): ChatResult {
  return messageReplyToChatResult(response.body, context, 'Azure (Claude)');
}

/** The decoder of a Claude deployment's event stream; `native` for a request sent as written. */
export function createClaudeOnAzureStreamDecoder(context: ProviderContext, native: boolean): StreamDecoder {
  return createMessageStreamDecoder(context, azureSecrets(context), native);
}

/** Maps a Claude deployment's error reply, in Anthropic's shape (from Claude) or Azure's (from the resource's front door). */
export function parseClaudeOnAzureError(response: UpstreamResponse, context: ProviderContext): UpstreamError {
  if (isAnthropicErrorBody(response.body)) return parseAnthropicError(response, { secrets: azureSecrets(context), now: context.now() });
  return parseAzureError(response, context);
}
