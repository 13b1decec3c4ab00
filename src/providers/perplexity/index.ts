/** Perplexity's Sonar API (https://docs.perplexity.ai). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/**
 * How Tollgate talks to Perplexity. Its chat endpoint has no `/v1` segment (`https://api.perplexity.ai/chat/completions`).
 * The extra `citations` and `search_results` fields of its replies pass through untouched.
 */
export const perplexityDescription: CompatibleDescription = {
  type: 'perplexity',
  displayName: 'Perplexity',
  defaultBaseUrl: 'https://api.perplexity.ai',
  credentialStyle: 'value',
  knownModels: ['sonar', 'sonar-pro', 'sonar-reasoning', 'sonar-reasoning-pro', 'sonar-deep-research'],
  chatPath: '/chat/completions',
  embeddingsPath: null,
};

/** Creates the Perplexity adapter. */
export const createPerplexityAdapter: AdapterFactory = () => createCompatibleAdapter(perplexityDescription);
