/**
 * The Bedrock Converse / ConverseStream wire shapes Tollgate sends and reads (bedrock-runtime 2023-09-30).
 * Only the members Tollgate uses are typed; replies are read defensively because Bedrock adds fields over time.
 */

export type ConverseRole = 'user' | 'assistant';

export type ConverseImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

export type ConverseDocumentFormat = 'pdf' | 'csv' | 'doc' | 'docx' | 'xls' | 'xlsx' | 'html' | 'txt' | 'md';

export interface ConverseImageBlock {
  format: ConverseImageFormat;
  source: { bytes: string };
}

export interface ConverseDocumentBlock {
  format: ConverseDocumentFormat;
  name: string;
  source: { bytes: string };
}

export interface ConverseToolUseBlock {
  toolUseId: string;
  name: string;
  input: unknown;
}

export type ConverseToolResultContent = { text: string } | { json: unknown } | { image: ConverseImageBlock };

export interface ConverseToolResultBlock {
  toolUseId: string;
  content: ConverseToolResultContent[];
  status?: 'success' | 'error';
}

export interface ConverseReasoningBlock {
  reasoningText?: { text: string; signature?: string };
  redactedContent?: string;
}

/**
 * Marks the end of a prompt prefix Bedrock caches (prompt caching). `ttl` ("5m" or "1h") asks for a cache
 * lifetime other than the default; Bedrock validates it.
 */
export interface ConverseCachePoint {
  type: 'default';
  ttl?: string;
}

/** One content block; exactly one member is set. */
export interface ConverseContentBlock {
  text?: string;
  image?: ConverseImageBlock;
  document?: ConverseDocumentBlock;
  toolUse?: ConverseToolUseBlock;
  toolResult?: ConverseToolResultBlock;
  reasoningContent?: ConverseReasoningBlock;
  cachePoint?: ConverseCachePoint;
}

export interface ConverseMessage {
  role: ConverseRole;
  content: ConverseContentBlock[];
}

export interface ConverseToolSpecification {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
}

export type ConverseToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

/** A cache point in `toolConfig.tools`: the tool definitions before it are cached. */
export interface ConverseToolCachePoint {
  cachePoint: ConverseCachePoint;
}

/** One entry of `toolConfig.tools`. */
export type ConverseTool = ConverseToolSpecification | ConverseToolCachePoint;

export interface ConverseToolConfig {
  tools: ConverseTool[];
  toolChoice?: ConverseToolChoice;
}

export interface ConverseInferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

/** One block of `system`: text, or a cache point ending the cached system prefix. */
export type ConverseSystemBlock = { text: string } | { cachePoint: ConverseCachePoint };

/** The body of POST /model/{modelId}/converse (and /converse-stream). */
export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: ConverseSystemBlock[];
  inferenceConfig?: ConverseInferenceConfig;
  toolConfig?: ConverseToolConfig;
  additionalModelRequestFields?: Record<string, unknown>;
}

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** The reply of a non-streamed Converse call. */
export interface ConverseResponse {
  output?: { message?: { role?: string; content?: ConverseContentBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
  metrics?: { latencyMs?: number };
  additionalModelResponseFields?: unknown;
}
