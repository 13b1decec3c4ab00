/** Ollama's OpenAI-compatible endpoint (https://docs.ollama.com/api/openai-compatibility). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to an Ollama server through `/v1`; each key names its server (`key.ollama.url`). */
export const ollamaDescription: CompatibleDescription = {
  type: 'ollama',
  displayName: 'Ollama',
  defaultBaseUrl: 'http://localhost:11434',
  credentialStyle: 'url',
  knownModels: ['llama3.2', 'llama3.1', 'qwen2.5', 'qwen3', 'gemma3', 'mistral', 'phi4', 'deepseek-r1', 'nomic-embed-text'],
  keyBaseUrl: (key) => key.ollama?.url,
  chatRules: {
    // Ollama's compatibility layer does not implement these; dropping them states that plainly instead of
    // relying on Ollama ignoring them.
    dropFields: ['tool_choice', 'logit_bias', 'user', 'n', 'logprobs', 'top_logprobs'],
  },
};

/** Creates the Ollama adapter. */
export const createOllamaAdapter: AdapterFactory = () => createCompatibleAdapter(ollamaDescription);
