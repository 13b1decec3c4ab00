/** Groq's OpenAI-compatible endpoint (https://console.groq.com/docs/openai). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/** How Tollgate talks to Groq. */
export const groqDescription: CompatibleDescription = {
  type: 'groq',
  displayName: 'Groq',
  defaultBaseUrl: 'https://api.groq.com/openai',
  credentialStyle: 'value',
  knownModels: [
    'llama-3.3-70b-versatile',
    'llama-3.1-8b-instant',
    'meta-llama/llama-4-scout-17b-16e-instruct',
    'meta-llama/llama-4-maverick-17b-128e-instruct',
    'openai/gpt-oss-120b',
    'openai/gpt-oss-20b',
    'qwen/qwen3-32b',
    'moonshotai/kimi-k2-instruct',
  ],
  chatRules: {
    // Groq answers 400 when any of these is present, even with a neutral value.
    dropFields: ['logprobs', 'logit_bias', 'top_logprobs'],
    dropMessageFields: ['name'],
    maxChoices: 1,
  },
  // Groq serves no embeddings models.
  embeddingsPath: null,
};

/** Creates the Groq adapter. */
export const createGroqAdapter: AdapterFactory = () => createCompatibleAdapter(groqDescription);
