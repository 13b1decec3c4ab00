/** Self-hosted vLLM servers (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html). */
import type { AdapterFactory } from '../../spec/provider.js';
import { createCompatibleAdapter, type CompatibleDescription } from '../openai-compatible/index.js';

/**
 * How Tollgate talks to a vLLM server. Each key names its server (`key.vllm.url`) and may pin the model the
 * server was started with (`key.vllm.modelName`), which then replaces whatever model the client asked for.
 * Flat `{object: "error"}` bodies and usage chunks with null choices are handled by the shared code.
 */
export const vllmDescription: CompatibleDescription = {
  type: 'vllm',
  displayName: 'vLLM',
  defaultBaseUrl: 'http://localhost:8000',
  credentialStyle: 'url',
  // A vLLM server serves whatever it was started with; no model name says "this is vLLM".
  knownModels: [],
  keyBaseUrl: (key) => key.vllm?.url,
  upstreamModel: (context) => {
    const pinned = context.key.vllm?.modelName;
    return pinned !== undefined && pinned !== '' ? pinned : context.model;
  },
  embeddingRules: { acceptTokenInputs: true },
};

/** Creates the vLLM adapter. */
export const createVllmAdapter: AdapterFactory = () => createCompatibleAdapter(vllmDescription);
