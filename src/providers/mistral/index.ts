/** Mistral La Plateforme (https://docs.mistral.ai/api). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to Mistral. */
export const mistralDescription: CompatibleDescription = {
  type: 'mistral',
  displayName: 'Mistral AI',
  defaultBaseUrl: 'https://api.mistral.ai',
  credentialStyle: 'value',
  knownModels: [
    'mistral-large-latest',
    'mistral-medium-latest',
    'mistral-small-latest',
    'magistral-medium-latest',
    'codestral-latest',
    'ministral-8b-latest',
    'pixtral-large-latest',
    'open-mistral-nemo',
    'mistral-embed',
  ],
  chatRules: {
    renameFields: { seed: 'random_seed', max_completion_tokens: 'max_tokens' },
    // Mistral validates strictly and answers 422 ("Extra inputs are not permitted") to OpenAI-only fields.
    dropFields: [
      'user',
      'logit_bias',
      'logprobs',
      'top_logprobs',
      'store',
      'service_tier',
      'reasoning_effort',
      'modalities',
      'audio',
      'web_search_options',
    ],
    // Mistral rejects stream_options with 422 and always reports usage on its last chunk.
    sendStreamOptions: false,
  },
  embeddingRules: {
    renameFields: { dimensions: 'output_dimension' },
    dropFields: ['user'],
  },
  finishReasons: { model_length: 'length' },
};

/** Creates the Mistral adapter. */
export const createMistralAdapter: AdapterFactory = () => createCompatibleAdapter(mistralDescription);
