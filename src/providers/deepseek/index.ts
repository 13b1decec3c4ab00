/** DeepSeek's API (https://api-docs.deepseek.com). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/**
 * How Tollgate talks to DeepSeek. Assistant messages keep their non-standard `reasoning_content`: the
 * thinking-mode models reject a tool-calling turn that lost it, and the pass-through body preserves it.
 */
export const deepSeekDescription: CompatibleDescription = {
  type: 'deepseek',
  displayName: 'DeepSeek',
  defaultBaseUrl: 'https://api.deepseek.com',
  credentialStyle: 'value',
  knownModels: ['deepseek-chat', 'deepseek-reasoner'],
  // The server ran out of capacity mid-answer: the reply is cut short, which clients know as `length`.
  finishReasons: { insufficient_system_resource: 'length' },
  embeddingsPath: null,
};

/** Creates the DeepSeek adapter. */
export const createDeepSeekAdapter: AdapterFactory = () => createCompatibleAdapter(deepSeekDescription);
