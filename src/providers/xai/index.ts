/** xAI's Grok API (https://docs.x.ai). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to xAI. */
export const xaiDescription: CompatibleDescription = {
  type: 'xai',
  displayName: 'xAI',
  defaultBaseUrl: 'https://api.x.ai',
  credentialStyle: 'value',
  knownModels: ['grok-4', 'grok-4-fast-reasoning', 'grok-4-fast-non-reasoning', 'grok-code-fast-1', 'grok-3', 'grok-3-mini'],
  // xAI currently lists no embeddings models.
  embeddingsPath: null,
};

/** Creates the xAI adapter. */
export const createXaiAdapter: AdapterFactory = () => createCompatibleAdapter(xaiDescription);
