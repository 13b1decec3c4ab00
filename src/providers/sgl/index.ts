/** Self-hosted SGLang servers (https://docs.sglang.io). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to an SGLang server; each key names its server (`key.sgl.url`). */
export const sglDescription: CompatibleDescription = {
  type: 'sgl',
  displayName: 'SGLang',
  defaultBaseUrl: 'http://localhost:30000',
  credentialStyle: 'url',
  // An SGLang server serves whatever it was started with.
  knownModels: [],
  keyBaseUrl: (key) => key.sgl?.url,
  embeddingRules: { acceptTokenInputs: true },
};

/** Creates the SGLang adapter. */
export const createSglAdapter: AdapterFactory = () => createCompatibleAdapter(sglDescription);
