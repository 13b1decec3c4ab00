/** OpenAI itself: the reference server, so the compatible adapter applies with one rename. */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

const OPENAI_RULES = { renameFields: { max_tokens: 'max_completion_tokens' } } as const;

/** How Tollgate talks to api.openai.com. */
export const openAIDescription: CompatibleDescription = {
  type: 'openai',
  displayName: 'OpenAI',
  defaultBaseUrl: 'https://api.openai.com',
  credentialStyle: 'value',
  knownModels: [
    'gpt-5',
    'gpt-5-mini',
    'gpt-5-nano',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-4.1-nano',
    'gpt-4o',
    'gpt-4o-mini',
    'o3',
    'o4-mini',
    'text-embedding-3-small',
    'text-embedding-3-large',
    'text-embedding-ada-002',
  ],
  // max_tokens is deprecated at OpenAI and refused by its reasoning models (o-series, gpt-5), while
  // max_completion_tokens means the same for every chat model: clients, and the Messages and Responses
  // translations, may send the older name, which every other server knows. Custom providers built on this
  // adapter (a local server speaking OpenAI's format) get the body as sent: not every such server knows the newer name.
  chatRulesFor: (context) => (context.provider.name === 'openai' ? OPENAI_RULES : undefined),
  // OpenAI embeds token-id arrays natively.
  embeddingRules: { acceptTokenInputs: true },
};

/** Creates the OpenAI adapter. */
export const createOpenAIAdapter: AdapterFactory = () => createCompatibleAdapter(openAIDescription);
