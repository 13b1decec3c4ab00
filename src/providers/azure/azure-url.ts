/**
 * Addresses Azure OpenAI's classic data plane: `<endpoint>/openai/deployments/<deployment>/<operation>?api-version=…`.
 */
import { errors } from '../../spec/errors.js';
import type { ProviderContext } from '../../spec/provider.js';

/** The GA data-plane version used when a key names none. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export type AzureOperation = 'chat/completions' | 'embeddings';

/**
 * The resource endpoint: the provider's base_url, else the key's endpoint. A trailing `/openai` (as copied from
 * some portal pages) is dropped so the path is not doubled.
 */
export function azureEndpoint(context: ProviderContext): string {
  const configured = context.provider.network.baseUrl;
  const endpoint = configured !== undefined && configured !== '' ? configured : (context.key.azure?.endpoint ?? '');
  if (endpoint === '') {
    throw errors.internal('The Azure key has no endpoint and the provider has no base URL.', { code: 'provider_endpoint_missing' });
  }
  return endpoint.replace(/\/+$/, '').replace(/\/openai$/, '');
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
 * Whether the key's api-version knows `max_completion_tokens` (2024-09-01-preview and later): the only name
 * Azure's reasoning deployments accept, and one the older versions refuse. Versions are dates, so they compare as
 * text.
 */
export function takesMaxCompletionTokens(context: ProviderContext): boolean {
  return azureApiVersion(context).slice(0, 10) >= '2024-09-01';
}

/** The full URL of a deployment operation. */
export function azureOperationUrl(context: ProviderContext, operation: AzureOperation): string {
  const apiVersion = azureApiVersion(context);
  return `${azureEndpoint(context)}/openai/deployments/${encodeURIComponent(azureDeployment(context))}/${operation}?api-version=${encodeURIComponent(apiVersion)}`;
}
