/**
 * Decoding OpenAI-compatible SSE streams into chunks. Each `data:` line is one JSON chunk; `[DONE]` is
 * swallowed because the core writes its own terminator. Chunks that need no change keep their upstream text
 * (`raw`) so the core can forward them byte for byte.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ChatCompletionChunk, FinishReason } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { ErrorStatusOverride } from './description.js';
import { redactSecrets, streamErrorFromPayload, toUpstreamError } from './errors.js';
import { normalizeChoices, readUsage } from './response.js';

export interface CompatibleStreamOptions {
  finishReasons?: Readonly<Record<string, FinishReason>>;
  errorStatusOverrides?: Readonly<Record<number, ErrorStatusOverride>>;
  /** Values that must never appear in an error message (the key's secret). */
  secrets?: readonly (string | undefined)[];
}

/**
 * Creates a decoder for one streamed reply. Bytes may be split anywhere, including inside a multi-byte
 * character. Usage is read from the standard usage chunk and from Groq's `x_groq.usage`; when only the
 * latter arrived, `finish()` adds a standard usage chunk so clients that asked for usage still get one.
 */
export function createCompatibleStreamDecoder(options: CompatibleStreamOptions = {}): StreamDecoder {
  const textDecoder = new TextDecoder('utf-8');
  let pending: StreamEvent[] = [];
  let usage: TokenUsage | undefined;
  let sawStandardUsage = false;
  let ended = false;
  let last: { id: string; created: number; model: string } | undefined;

  const handle = (message: EventSourceMessage): void => {
    if (ended) return;
    const data = message.data;
    if (data.trim() === '' || data.trim() === '[DONE]') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      ended = true;
      pending.push({
        kind: 'error',
        error: toUpstreamError(502, { message: 'The upstream sent a stream event that is not valid JSON.' }),
      });
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return;
    const record = parsed as Record<string, unknown>;
    if ((record.error !== undefined && record.error !== null) || message.event === 'error') {
      ended = true;
      const error = streamErrorFromPayload(record, options.errorStatusOverrides);
      error.message = redactSecrets(error.message, options.secrets ?? []);
      pending.push({ kind: 'error', error });
      return;
    }
    const changed = normalizeChoices(record, options.finishReasons);
    const chunkUsage = readUsage(record);
    if (chunkUsage !== undefined) usage = chunkUsage;
    if (record.usage !== null && record.usage !== undefined) sawStandardUsage = true;
    if (typeof record.id === 'string' && typeof record.created === 'number' && typeof record.model === 'string') {
      last = { id: record.id, created: record.created, model: record.model };
    }
    const chunk = record as unknown as ChatCompletionChunk;
    pending.push(changed ? { kind: 'chunk', chunk } : { kind: 'chunk', chunk, raw: data });
  };

  const parser = createParser({ onEvent: handle });

  const drain = (): StreamEvent[] => {
    const events = pending;
    pending = [];
    return events;
  };

  return {
    push(data: Uint8Array): StreamEvent[] {
      parser.feed(textDecoder.decode(data, { stream: true }));
      return drain();
    },
    finish(): StreamEvent[] {
      // Flush a final event the upstream did not terminate with a blank line.
      parser.feed(`${textDecoder.decode()}\n\n`);
      if (!ended && usage !== undefined && !sawStandardUsage && last !== undefined) {
        sawStandardUsage = true;
        pending.push({
          kind: 'chunk',
          chunk: {
            id: last.id,
            object: 'chat.completion.chunk',
            created: last.created,
            model: last.model,
            choices: [],
            usage: toOpenAIUsage(usage),
          },
        });
      }
      ended = true;
      return drain();
    },
    usage(): TokenUsage | undefined {
      return usage;
    },
  };
}
