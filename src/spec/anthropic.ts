/**
 * Anthropic Messages API wire types (API version 2023-06-01, the one Tollgate speaks upstream and accepts
 * from clients). Used by the Anthropic-format translation (Anthropic, Claude on Vertex and Bedrock) and by
 * Tollgate's own Anthropic-compatible `POST /v1/messages`. Index signatures keep fields Tollgate does not
 * model, because the API adds optional fields within a version.
 */

/** Marks a prompt prefix for caching. */
export interface AnthropicCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
  cache_control?: AnthropicCacheControl | null;
  citations?: unknown[] | null;
  [extra: string]: unknown;
}

export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string }
  | { type: 'file'; file_id: string };

export interface AnthropicImageBlock {
  type: 'image';
  source: AnthropicImageSource;
  cache_control?: AnthropicCacheControl | null;
}

export type AnthropicDocumentSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'text'; media_type: 'text/plain'; data: string }
  | { type: 'url'; url: string }
  | { type: 'file'; file_id: string }
  | { type: 'content'; content: string | AnthropicTextBlock[] };

export interface AnthropicDocumentBlock {
  type: 'document';
  source: AnthropicDocumentSource;
  title?: string | null;
  context?: string | null;
  citations?: { enabled?: boolean } | null;
  cache_control?: AnthropicCacheControl | null;
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  /** Always an object in replies; clients send what the model produced. */
  input: unknown;
  cache_control?: AnthropicCacheControl | null;
}

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock>;
  is_error?: boolean;
  cache_control?: AnthropicCacheControl | null;
}

export interface AnthropicThinkingBlock {
  type: 'thinking';
  thinking: string;
  /** Opaque integrity token; must be sent back unchanged with the block. */
  signature: string;
}

export interface AnthropicRedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

/** Blocks a request message may carry. */
export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicDocumentBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock;

export interface AnthropicMessageParam {
  /** `system` is not part of 2023-06-01; newer SDKs may send it and Tollgate's /v1/messages accepts it. */
  role: 'user' | 'assistant' | 'system';
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool {
  /** Absent or `custom` for client tools; server tools carry a versioned type such as `web_search_20250305`. */
  type?: string;
  name: string;
  description?: string;
  input_schema?: Record<string, unknown>;
  strict?: boolean;
  cache_control?: AnthropicCacheControl | null;
  [extra: string]: unknown;
}

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export type AnthropicThinkingConfig =
  | { type: 'enabled'; budget_tokens: number; [extra: string]: unknown }
  | { type: 'disabled' }
  | { type: 'adaptive'; [extra: string]: unknown };

export interface AnthropicOutputConfig {
  format?: { type: 'json_schema'; schema: Record<string, unknown> } | null;
  effort?: string | null;
  [extra: string]: unknown;
}

/**
 * The members of a Messages request that Claude upstreams receive as the client sent them, though the canonical
 * chat form has no place for them (the `anthropic_request_members` extension). Not among them: members that change
 * what a request costs in ways the reservation and the price list do not know (`service_tier`, `speed`,
 * `inference_geo`) or that run tools upstream (`container`, `mcp_servers`).
 */
export const CLAUDE_REQUEST_MEMBERS: readonly string[] = ['cache_control', 'context_management', 'output_config'];

/**
 * The members of a Messages request that reach Claude when the request is sent as the client wrote it (a native
 * request: `/v1/messages` to Anthropic's API or to Claude on Vertex): those the translation reads, and Claude's own
 * members above. Any other member (the same priced or tool-running ones, Tollgate's `fallbacks`) is left out;
 * `model` and `stream` are the gateway's to set.
 */
export const NATIVE_MESSAGES_MEMBERS: readonly string[] = [
  'messages',
  'max_tokens',
  'system',
  'metadata',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  ...CLAUDE_REQUEST_MEMBERS,
];

export interface AnthropicMessagesRequest {
  model: string;
  messages: AnthropicMessageParam[];
  /** Required by the API; Tollgate supplies a per-model default when the client gave none. */
  max_tokens: number;
  system?: string | AnthropicTextBlock[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  metadata?: { user_id?: string | null; [extra: string]: unknown };
  stream?: boolean;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  thinking?: AnthropicThinkingConfig;
  output_config?: AnthropicOutputConfig;
  [extra: string]: unknown;
}

export type AnthropicStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/**
 * Token counts. `input_tokens` excludes cache traffic: the whole prompt is
 * input + cache_creation_input_tokens + cache_read_input_tokens.
 */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** The cache writes by lifetime; Anthropic's one-hour writes cost more than the default five minutes. */
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null;
  [extra: string]: unknown;
}

/** A reply block. Server-tool blocks (`server_tool_use`, `web_search_tool_result`, ...) are read as unknown. */
export type AnthropicResponseBlock =
  | AnthropicTextBlock
  | AnthropicToolUseBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock;

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
  [extra: string]: unknown;
}

export type AnthropicContentDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'citations_delta'; citation: unknown };

/** `usage` of `message_delta`: counts are cumulative totals, not increments. */
export interface AnthropicMessageDeltaUsage {
  output_tokens: number;
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  [extra: string]: unknown;
}

export interface AnthropicErrorDetail {
  type: string;
  message: string;
  [extra: string]: unknown;
}

export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicResponseBlock }
  | { type: 'content_block_delta'; index: number; delta: AnthropicContentDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: AnthropicStopReason | null; stop_sequence: string | null; [extra: string]: unknown };
      usage: AnthropicMessageDeltaUsage;
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: AnthropicErrorDetail };

/** The name of every stream event Tollgate knows; the API may add others, which readers must ignore. */
export type AnthropicStreamEventName = AnthropicStreamEvent['type'];

/** The body of every Anthropic error reply, and the data of an `error` stream event. */
export interface AnthropicErrorBody {
  type: 'error';
  error: AnthropicErrorDetail;
  request_id?: string;
}
