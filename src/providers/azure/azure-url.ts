/**
 * Addresses Azure OpenAI's data plane: the classic one, `<endpoint>/openai/deployments/<deployment>/<operation>?api-version=…`,
 * or, for a key whose api-version is `v1` or `preview`, the v1 API, `<endpoint>/openai/v1/<operation>`.
 */
import { errors } from '../../spec/errors.js';
import type { ProviderContext } from '../../spec/provider.js';

/** The GA data-plane version used when a key names none. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export type AzureOperation = 'chat/completions' | 'embeddings' | 'responses';

/**
 * The resource endpoint: the provider's base_url, else the key's endpoint. A trailing `/openai` (as copied from
 * some portal pages), `/openai/v1` (the base URL Azure's v1 documentation gives the OpenAI SDK) or `/anthropic`
 * (the one Foundry gives Anthropic's SDK for Claude deployments) is dropped so the path is not doubled.
 */
export function azureEndpoint(context: ProviderContext): string {
  const configured = context.provider.network.baseUrl;
  const endpoint = configured !== undefined && configured !== '' ? configured : (context.key.azure?.endpoint ?? '');
  if (endpoint === '') {
    throw errors.internal('The Azure key has no endpoint and the provider has no base URL.', { code: 'provider_endpoint_missing' });
  }
  return endpoint.replace(/\/+$/, '').replace(/\/(?:openai(?:\/v1)?|anthropic(?:\/v1)?)$/, '');
}

/** The deployment serving the model: the key's mapping, else a deployment named like the model. */
export function azureDeployment(context: ProviderContext): string {
  const mapped = context.key.azure?.deployments[context.model];
  return mapped !== undefined && mapped !== '' ? mapped : context.model;
}

/** The api-version a key's requests name: its own, else the default. */
export function azureApiVersion(context: ProviderContext): string {
  return context.key.azure?.apiVersion || DEFAULT_AZURE_API_VERSION;
}

/**
 * Whether the key's api-version knows `max_completion_tokens` (2024-09-01-preview and later, and the v1 API): the
 * only name Azure's reasoning deployments accept, and one the older versions refuse. Dated versions compare as text.
 */
export function takesMaxCompletionTokens(context: ProviderContext): boolean {
  return isAzureV1(context) || azureApiVersion(context).slice(0, 10) >= '2024-09-01';
}

/**
 * Whether the key speaks Azure's v1 API (generally available since August 2025): operations at
 * `<endpoint>/openai/v1/…` as OpenAI names them, the deployment in the body's `model`, no dated api-version. A key
 * opts in with the api-version `v1` (Azure's GA surface, no query) or `preview` (its preview features, named by
 * `?api-version=preview`); dated versions keep the classic deployment paths, which every deployment serves.
 */
export function isAzureV1(context: ProviderContext): boolean {
  const apiVersion = azureApiVersion(context);
  return apiVersion === 'v1' || apiVersion === 'preview';
}

/**
 * The full URL of an operation: on the v1 API (`isAzureV1`), OpenAI's path under `/openai/v1` (Responses is served
 * there only); otherwise the deployment's classic path with the key's api-version.
 */
export function azureOperationUrl(context: ProviderContext, operation: AzureOperation): string {
  const apiVersion = azureApiVersion(context);
  const endpoint = azureEndpoint(context);
  if (isAzureV1(context)) return apiVersion === 'preview' ? `${endpoint}/openai/v1/${operation}?api-version=preview` : `${endpoint}/openai/v1/${operation}`;
  if (operation === 'responses') throw errors.internal('Azure serves the Responses API on its v1 API only.', { code: 'azure_responses_needs_v1' });
  return `${endpoint}/openai/deployments/${encodeURIComponent(azureDeployment(context))}/${operation}?api-version=${encodeURIComponent(apiVersion)}`;
}
