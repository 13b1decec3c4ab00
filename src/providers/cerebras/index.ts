/** Cerebras Inference (https://inference-docs.cerebras.ai). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to Cerebras. */
export const cerebrasDescription: CompatibleDescription = {
  type: 'cerebras',
  displayName: 'Cerebras',
  defaultBaseUrl: 'https://api.cerebras.ai',
  credentialStyle: 'value',
  knownModels: ['llama3.1-8b', 'llama-3.3-70b', 'llama-4-scout-17b-16e-instruct', 'qwen-3-32b', 'gpt-oss-120b'],
  // Cerebras serves no embeddings models.
  embeddingsPath: null,
};

/** Creates the Cerebras adapter. */
export const createCerebrasAdapter: AdapterFactory = () => createCompatibleAdapter(cerebrasDescription);
