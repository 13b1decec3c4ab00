/**
 * Addresses the Bedrock runtime: origin, model id and operation paths.
 */
import type { ProviderContext } from '../../spec/provider.js';
import { bedrockRegion } from './bedrock-auth.js';

/** The runtime operations Tollgate calls, by path suffix. */
export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream' | 'count-tokens';

/** The origin (and path prefix) requests go to: the provider's base_url, else the regional runtime endpoint. */
export function bedrockBaseUrl(context: ProviderContext): string {
  const configured = context.provider.network.baseUrl;
  if (configured !== undefined && configured !== '') return configured.replace(/\/+$/, '');
  return `https://bedrock-runtime.${bedrockRegion(context)}.amazonaws.com`;
}

/**
 * The model id Bedrock is asked for: the key's deployment mapping for the model, else the key's inference
 * profile ARN, else the model name itself.
 */
export function bedrockModelId(context: ProviderContext): string {
  const settings = context.key.bedrock;
  const mapped = settings?.deployments[context.model];
  if (mapped !== undefined && mapped !== '') return mapped;
  if (settings?.arn !== undefined && settings.arn !== '') return settings.arn;
  return context.model;
}

/** The full URL of an operation; the model id is one percent-encoded path segment (ARNs hold `:` and `/`). */
export function bedrockOperationUrl(context: ProviderContext, operation: BedrockOperation, modelId = bedrockModelId(context)): string {
  return `${bedrockBaseUrl(context)}/model/${encodeURIComponent(modelId)}/${operation}`;
}

/**
 * The unsigned headers of a runtime call: JSON in, the given media type out, plus the provider's configured
 * extra headers. Extras are applied here, before signing, so that the signature covers them.
 */
export function bedrockHeaders(context: ProviderContext, accept: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  for (const [name, value] of Object.entries(context.provider.network.extraHeaders)) headers[name.toLowerCase()] = value;
  return headers;
}

/** The geographic prefixes of Bedrock's cross-region inference profile ids (`us.anthropic.claude-…`). */
const INFERENCE_PROFILE_PREFIX = /^(?:us|eu|apac|au|ca|jp|us-gov|global)\./;

/**
 * The foundation model behind a model id: an inference profile's id or ARN names the model after its geographic
 * prefix (`us.anthropic.claude-…`, `arn:…:inference-profile/eu.anthropic.claude-…`), a foundation-model ARN after
 * its `/`. CountTokens takes only foundation model ids, and counts the same for every profile of one model.
 */
export function foundationModelId(modelId: string): string {
  const resource = modelId.startsWith('arn:') ? modelId.slice(modelId.lastIndexOf('/') + 1) : modelId;
  return resource.replace(INFERENCE_PROFILE_PREFIX, '');
}
