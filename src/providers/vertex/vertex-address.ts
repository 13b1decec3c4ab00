/**
 * Where a Vertex AI request goes: regional host (or `aiplatform.googleapis.com` for `global`), the project and
 * location path, the publisher (Google for Gemini, Anthropic for Claude) and the deployed model id.
 */
import { GatewayError } from '../../spec/errors.js';
import type { ProviderContext, ResolvedKey } from '../../spec/provider.js';

/** The host for region `global`, and the documented default when a key names no region at all. */
export const VERTEX_GLOBAL_ORIGIN = 'https://aiplatform.googleapis.com';

export type VertexPublisher = 'google' | 'anthropic';

/** The model id the upstream knows: the key's deployment for the model, or the model itself. */
export function deployedModel(context: ProviderContext): string {
  const deployments = context.key.vertex?.deployments ?? {};
  return deployments[context.model] ?? context.model;
}

/** Claude models are served by the Anthropic publisher with the Messages body. */
export function isClaudeModel(model: string): boolean {
  return /^claude/i.test(model.replace(/^publishers\/anthropic\/models\//, ''));
}

/** `https://<region>-aiplatform.googleapis.com`, the global host, or the provider's base URL. */
export function vertexOrigin(context: ProviderContext): string {
  if (context.provider.network.baseUrl) return context.provider.network.baseUrl.replace(/\/+$/, '');
  const region = context.key.vertex?.region;
  if (!region || region === 'global') return VERTEX_GLOBAL_ORIGIN;
  return `https://${region}-aiplatform.googleapis.com`;
}

/** The key's Vertex settings; a key without project or region cannot address Vertex. */
export function vertexSettings(key: ResolvedKey): NonNullable<ResolvedKey['vertex']> & { region: string } {
  const settings = key.vertex;
  if (!settings || !settings.projectId || !settings.region) {
    throw new GatewayError({
      status: 500,
      type: 'server_error',
      code: 'invalid_provider_credentials',
      message: `The Vertex key '${key.name}' needs vertex_key_config with project_id and region.`,
    });
  }
  return settings;
}

/** One path segment, keeping the `@` of Claude version ids as Google's own clients send it. */
function segment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@');
}

/** The full URL of a model method, e.g. `…/publishers/google/models/gemini-2.5-flash:generateContent`. */
export function vertexModelUrl(context: ProviderContext, publisher: VertexPublisher, model: string, method: string): string {
  const settings = vertexSettings(context.key);
  const bare = model.replace(/^publishers\/[^/]+\/models\//, '');
  const path = `/v1/projects/${segment(settings.projectId)}/locations/${segment(settings.region)}/publishers/${publisher}/models/${segment(bare)}`;
  return `${vertexOrigin(context)}${path}:${method}`;
}
