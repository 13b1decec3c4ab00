/** OpenRouter (https://openrouter.ai/docs). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/**
 * How Tollgate talks to OpenRouter. Its `HTTP-Referer`/`X-Title` attribution headers are optional and come from
 * the provider's extra headers. Mid-stream failures arrive as chunks with an `error` key, which the shared
 * decoder turns into error events.
 */
export const openRouterDescription: CompatibleDescription = {
  type: 'openrouter',
  displayName: 'OpenRouter',
  defaultBaseUrl: 'https://openrouter.ai/api',
  credentialStyle: 'value',
  knownModels: [
    'openai/gpt-4o',
    'openai/gpt-4o-mini',
    'anthropic/claude-sonnet-4',
    'google/gemini-2.5-pro',
    'google/gemini-2.5-flash',
    'meta-llama/llama-3.3-70b-instruct',
    'deepseek/deepseek-chat',
    'mistralai/mistral-large',
  ],
};

/** Creates the OpenRouter adapter. */
export const createOpenRouterAdapter: AdapterFactory = () => createCompatibleAdapter(openRouterDescription);
