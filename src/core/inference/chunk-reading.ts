import type { ChatCompletionChunk, ChatCompletionChunkChoice } from '../../spec/openai.js';
import { isRecord } from '../../spec/json-value.js';
import { fromOpenAIUsage, type TokenUsage } from '../../spec/usage.js';

/** What a client format with one answer per reply (Messages, Responses) reads of a canonical chunk. */
export interface ChunkReading {
  /** Whether the chunk reported usage; `usage` is then what it reported (undefined when not counts). */
  usageReported: boolean;
  usage: TokenUsage | undefined;
  /** The first choice's delta; undefined when the chunk has no first choice (a usage-only chunk). */
  delta: ChatCompletionChunkChoice['delta'] | undefined;
  finishReason: string | undefined;
}

/**
 * Reads a chunk's usage and its first choice. Further choices (n > 1) have nowhere to go in a format with one
 * answer. Chunks forwarded from OpenAI-compatible upstreams were not checked by an adapter: read defensively.
 */
export function readChunk(chunk: ChatCompletionChunk): ChunkReading {
  const usageReported = chunk.usage !== undefined && chunk.usage !== null;
  const choices: unknown[] = Array.isArray(chunk.choices) ? chunk.choices : [];
  const choice = choices.find((item): item is ChatCompletionChunkChoice => isRecord(item) && item.index === 0);
  return {
    usageReported,
    usage: usageReported ? fromOpenAIUsage(chunk.usage) : undefined,
    delta: choice === undefined ? undefined : isRecord(choice.delta) ? choice.delta : {},
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : undefined,
  };
}
