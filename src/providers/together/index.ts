/** Together AI (https://docs.together.ai). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to Together AI. */
export const togetherDescription: CompatibleDescription = {
  type: 'together',
  displayName: 'Together AI',
  defaultBaseUrl: 'https://api.together.xyz',
  credentialStyle: 'value',
  knownModels: [
    'meta-llama/Llama-3.3-70B-Instruct-Turbo',
    'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',
    'deepseek-ai/DeepSeek-V3',
    'deepseek-ai/DeepSeek-R1',
    'Qwen/Qwen2.5-72B-Instruct-Turbo',
    'mistralai/Mixtral-8x7B-Instruct-v0.1',
    'BAAI/bge-large-en-v1.5',
  ],
  finishReasons: { eos: 'stop' },
  // Together documents 403 as "prompt + max_tokens exceeds the context length": a client error, not a permission one.
  errorStatusOverrides: {
    403: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' },
  },
};

/** Creates the Together AI adapter. */
export const createTogetherAdapter: AdapterFactory = () => createCompatibleAdapter(togetherDescription);
