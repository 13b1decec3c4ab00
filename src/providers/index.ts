/**
 * The adapter registry: every adapter type Tollgate speaks. Adding a provider means adding its folder and one
 * line here; nothing in the core names a provider.
 */
import type { AdapterFactory, AdapterOptions, ProviderAdapter } from '../spec/provider.js';
import { createAnthropicAdapter } from './anthropic/index.js';
import { createAzureAdapter } from './azure/index.js';
import { createBedrockAdapter } from './bedrock/index.js';
import { createCerebrasAdapter } from './cerebras/index.js';
import { createCohereAdapter } from './cohere/index.js';
import { createDeepSeekAdapter } from './deepseek/index.js';
import { createFireworksAdapter } from './fireworks/index.js';
import { createGeminiAdapter } from './gemini/index.js';
import { createGroqAdapter } from './groq/index.js';
import { createMistralAdapter } from './mistral/index.js';
import { createOllamaAdapter } from './ollama/index.js';
import { createOpenAIAdapter } from './openai/index.js';
import { createOpenRouterAdapter } from './openrouter/index.js';
import { createPerplexityAdapter } from './perplexity/index.js';
import { createReplicateAdapter } from './replicate/index.js';
import { createSglAdapter } from './sgl/index.js';
import { createTogetherAdapter } from './together/index.js';
import { createVertexAdapter } from './vertex/index.js';
import { createVllmAdapter } from './vllm/index.js';
import { createXaiAdapter } from './xai/index.js';

const factories: Record<string, AdapterFactory> = {
  openai: createOpenAIAdapter,
  anthropic: createAnthropicAdapter,
  azure: createAzureAdapter,
  bedrock: createBedrockAdapter,
  vertex: createVertexAdapter,
  gemini: createGeminiAdapter,
  mistral: createMistralAdapter,
  groq: createGroqAdapter,
  cohere: createCohereAdapter,
  deepseek: createDeepSeekAdapter,
  together: createTogetherAdapter,
  openrouter: createOpenRouterAdapter,
  xai: createXaiAdapter,
  fireworks: createFireworksAdapter,
  perplexity: createPerplexityAdapter,
  cerebras: createCerebrasAdapter,
  replicate: createReplicateAdapter,
  ollama: createOllamaAdapter,
  vllm: createVllmAdapter,
  sgl: createSglAdapter,
};

/** Adapters by type, each created once (they hold token caches). */
export type AdapterRegistry = ReadonlyMap<string, ProviderAdapter>;

/** Creates one adapter of every type. */
export function createAdapterRegistry(options: AdapterOptions = {}): AdapterRegistry {
  return new Map(Object.entries(factories).map(([type, factory]) => [type, factory(options)]));
}
