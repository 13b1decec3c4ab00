/**
 * What distinguishes one OpenAI-compatible server from another. A compatible provider is one of these
 * descriptions handed to `createCompatibleAdapter`; everything else is shared.
 */
import type { FinishReason } from '../../spec/openai.js';
import type { CredentialStyle, ProviderContext, ResolvedKey } from '../../spec/provider.js';

/** Field rewrites a server needs in the chat request body; applied after the model and stream fields are set. */
export interface ChatRequestRules {
  /** Top-level fields the server rejects; removed before sending. */
  dropFields?: readonly string[];
  /** Top-level fields the server spells differently (`{seed: 'random_seed'}`); an explicit target value wins. */
  renameFields?: Readonly<Record<string, string>>;
  /** Fields removed from every message (Groq rejects `messages[].name`). */
  dropMessageFields?: readonly string[];
  /** Largest `n` the server accepts; a larger one is refused with a 400 instead of silently returning fewer choices. */
  maxChoices?: number;
  /**
   * False when the server rejects `stream_options` (Mistral answers 422) and reports usage on its own; then the
   * client's `stream_options` is removed too.
   */
  sendStreamOptions?: boolean;
}

/** Field rewrites for the embeddings request body. */
export interface EmbeddingRequestRules {
  dropFields?: readonly string[];
  renameFields?: Readonly<Record<string, string>>;
  /** Whether token-id inputs (`number[]`, `number[][]`) may be forwarded; most non-OpenAI servers want text. */
  acceptTokenInputs?: boolean;
}

/** How an upstream status is reported when a server gives it a non-standard meaning. */
export interface ErrorStatusOverride {
  status: number;
  type: string;
  code: string | null;
}

/** One OpenAI-compatible server. */
export interface CompatibleDescription {
  type: string;
  displayName: string;
  /** Origin plus path prefix, without `/v1` (e.g. `https://api.groq.com/openai`). */
  defaultBaseUrl: string;
  knownModels: readonly string[];
  credentialStyle: CredentialStyle;
  /** Path appended to the base for chat; default `/v1/chat/completions`. */
  chatPath?: string;
  /** Path appended for embeddings (default `/v1/embeddings`); `null` when the server has no embeddings endpoint. */
  embeddingsPath?: string | null;
  /** The per-key server URL of self-hosted servers (vLLM, SGLang, Ollama), used when the provider has no base URL. */
  keyBaseUrl?: (key: ResolvedKey) => string | undefined;
  /** The model name sent upstream; default `context.model`. */
  upstreamModel?: (context: ProviderContext) => string;
  chatRules?: ChatRequestRules;
  /** Chat rules that depend on the provider (its name, its key); when given, they replace `chatRules`. */
  chatRulesFor?: (context: ProviderContext) => ChatRequestRules | undefined;
  embeddingRules?: EmbeddingRequestRules;
  /** Non-OpenAI finish reasons this server sends, mapped to OpenAI ones (anything else unknown becomes `stop`). */
  finishReasons?: Readonly<Record<string, FinishReason>>;
  /** Statuses this server uses with a non-standard meaning (Together's 403 = context too long). */
  errorStatusOverrides?: Readonly<Record<number, ErrorStatusOverride>>;
}
