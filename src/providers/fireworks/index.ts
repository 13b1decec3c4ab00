/** Fireworks AI (https://docs.fireworks.ai). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to Fireworks AI; its OpenAI-compatible API lives under `/inference`. */
export const fireworksDescription: CompatibleDescription = {
  type: 'fireworks',
  displayName: 'Fireworks AI',
  defaultBaseUrl: 'https://api.fireworks.ai/inference',
  credentialStyle: 'value',
  knownModels: [
    'accounts/fireworks/models/llama-v3p3-70b-instruct',
    'accounts/fireworks/models/llama-v3p1-8b-instruct',
    'accounts/fireworks/models/deepseek-v3',
    'accounts/fireworks/models/deepseek-r1',
    'accounts/fireworks/models/qwen2p5-72b-instruct',
    'nomic-ai/nomic-embed-text-v1.5',
  ],
};

/** Creates the Fireworks AI adapter. */
export const createFireworksAdapter: AdapterFactory = () => createCompatibleAdapter(fireworksDescription);
