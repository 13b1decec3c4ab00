/**
 * Decoding OpenAI-compatible SSE streams into chunks. Each `data:` line is one JSON chunk; `[DONE]` is
 * swallowed because the core writes its own terminator. Chunks that need no change keep their upstream text
 * (`raw`) so the core can forward them byte for byte.
 *
 * Most chunks of a stream are content deltas that need nothing from Tollgate, and parsing each one was a
 * measurable share of a stream's CPU. So a chunk is parsed only when its text shows it might carry something:
 * an error, a non-null usage, a finish reason to map, or `choices` that are not an array. Every other chunk is
 * forwarded as its text, and its `chunk` object is parsed only if a consumer reads it (the /v1/messages
 * encoder does; the /v1/chat/completions route does not).
 */
import { createSseReader, PendingEvents, type EventSourceMessage } from '../sse-reader.js';
import { errors } from '../../spec/errors.js';
import type { ChatCompletionChunk, FinishReason } from '../../spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import type { ErrorStatusOverride } from './description.js';
import { redactSecrets, streamErrorFromPayload, toUpstreamError } from './errors.js';
import { chunkShapeProblem } from './reply-shape.js';
import { normalizeChoices, normalizeFinishReason, takeUsage } from './response.js';
import { isRecord } from '../../spec/json-value.js';

export interface CompatibleStreamOptions {
  finishReasons?: Readonly<Record<string, FinishReason>>;
  errorStatusOverrides?: Readonly<Record<number, ErrorStatusOverride>>;
  /** Values that must never appear in an error message (the key's secret). */
  secrets?: readonly (string | undefined)[];
}

interface ChunkIdentity {
  id: string;
  created: number;
  model: string;
}

const notJson = 'The upstream sent a stream event that is not valid JSON.';
const incomplete = 'The upstream stream ended before its end ([DONE] or a finish reason).';

function unreadable(problem: string): string {
  return `The upstream sent a stream event Tollgate cannot read: ${problem}.`;
}

/**
 * A chunk forwarded as the upstream's text. `chunk` is parsed on first read and kept, so that a consumer that
 * compares it with what it read before (Azure's annotation filter) sees the same object.
 */
class ForwardedChunkEvent {
  readonly kind = 'chunk';
  readonly raw: string;
  #chunk: ChatCompletionChunk | undefined;

  constructor(raw: string) {
    this.raw = raw;
  }

  get chunk(): ChatCompletionChunk {
    if (this.#chunk === undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(this.raw);
      } catch {
        // Only a text that looks like one JSON object is forwarded unparsed, so this needs a malformed inside.
        throw errors.badGateway(notJson, { code: 'upstream_stream_error', upstream: true });
      }
      // The scan that let the text through saw a `choices` list somewhere, not necessarily where a reader looks.
      const problem = isRecord(parsed) ? chunkShapeProblem(parsed) : 'it is not a JSON object';
      if (problem !== undefined) throw errors.badGateway(unreadable(problem), { code: 'upstream_stream_error', upstream: true });
      this.#chunk = parsed as unknown as ChatCompletionChunk;
    }
    return this.#chunk;
  }
}

/**
 * Creates a decoder for one streamed reply. Bytes may be split anywhere, including inside a multi-byte
 * character. Usage is read from the standard usage chunk and from Groq's `x_groq.usage`; when only the
 * latter arrived, `finish()` adds a standard usage chunk so clients that asked for usage still get one.
 */
export function createCompatibleStreamDecoder(options: CompatibleStreamOptions = {}): StreamDecoder {
  const pending = new PendingEvents();
  let usage: TokenUsage | undefined;
  let sawStandardUsage = false;
  let ended = false;
  let finishing = false;
  // Whether the stream reached its end: `[DONE]`, or a finish reason for servers that leave `[DONE]` out. A body
  // that ends before either was cut short, and must not reach the client as a whole answer.
  let complete = false;
  // The synthesized usage chunk repeats id, created and model of the stream's last chunk that had them. A
  // forwarded chunk's text is kept instead of being parsed for them, and read only if that chunk is needed.
  let lastParsedIdentity: ChunkIdentity | undefined;
  let lastForwardedText: string | undefined;

  const handle = (message: EventSourceMessage): void => {
    if (ended) return;
    const data = message.data;
    const trimmed = data.trim();
    if (trimmed === '') return;
    if (trimmed === '[DONE]') {
      complete = true;
      return;
    }
    // An event the body ended in the middle of only reaches here from finish(); it is always parsed, since a cut
    // chunk can still end with a brace.
    const scan = finishing || message.event === 'error' ? PARSE : scanChunk(data, options.finishReasons);
    if (scan !== PARSE) {
      if (scan === FORWARD_FINISHED) complete = true;
      lastForwardedText = data;
      pending.push(new ForwardedChunkEvent(data));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      ended = true;
      pending.push({ kind: 'error', error: toUpstreamError(502, { message: notJson }) });
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
    const normalized = normalizeChoices(record, options.finishReasons);
    const problem = chunkShapeProblem(record);
    if (problem !== undefined) {
      ended = true;
      pending.push({ kind: 'error', error: toUpstreamError(502, { message: unreadable(problem) }) });
      return;
    }
    if ((record.choices as Array<Record<string, unknown>>).some((choice) => choice.finish_reason !== undefined && choice.finish_reason !== null)) complete = true;
    const taken = takeUsage(record);
    const changed = normalized || taken.changed;
    // A report that cannot be trusted replaces what came before: the stream's usage is then unknown.
    if (taken.usage !== undefined || taken.changed) usage = taken.usage;
    if (record.usage !== null && record.usage !== undefined) sawStandardUsage = true;
    const identity = identityOf(record);
    if (identity !== undefined) {
      lastParsedIdentity = identity;
      lastForwardedText = undefined;
    }
    const chunk = record as unknown as ChatCompletionChunk;
    pending.push(changed ? { kind: 'chunk', chunk } : { kind: 'chunk', chunk, raw: data });
  };

  const reader = createSseReader(handle);

  return {
    push(data: Uint8Array): StreamEvent[] {
      reader.feed(data);
      return pending.take();
    },
    finish(): StreamEvent[] {
      // Flush a final event the upstream did not terminate with a blank line.
      finishing = true;
      reader.end();
      if (!ended && !complete) {
        ended = true;
        pending.push({ kind: 'error', error: toUpstreamError(502, { message: incomplete, code: 'upstream_stream_incomplete' }) });
      }
      if (!ended && usage !== undefined && !sawStandardUsage) {
        const last = identityOfText(lastForwardedText) ?? lastParsedIdentity;
        if (last !== undefined) {
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
      }
      ended = true;
      return pending.take();
    },
    usage(): TokenUsage | undefined {
      return usage;
    },
  };
}

function identityOf(record: Record<string, unknown>): ChunkIdentity | undefined {
  if (typeof record.id === 'string' && typeof record.created === 'number' && typeof record.model === 'string') {
    return { id: record.id, created: record.created, model: record.model };
  }
  return undefined;
}

function identityOfText(text: string | undefined): ChunkIdentity | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? identityOf(parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;
const COLON = 0x3a;
const BACKSLASH = '\\';

/**
 * The quoted names whose values decide whether a chunk needs parsing. One pass of a global regex finds them all
 * (`test` moves `lastIndex` without allocating a match); the letter before the closing quote tells them apart.
 */
const keysToCheck = /"(?:error|usage|choices|finish_reason)"/g;
const LAST_LETTER_OF_ERROR = 0x72;
const LAST_LETTER_OF_USAGE = 0x65;
const LAST_LETTER_OF_CHOICES = 0x73;

/**
 * True when parsing the chunk's text would find nothing to act on: no `error`, no non-null `usage` (standard
 * or Groq's), `choices` as an array, and no finish reason that `normalizeChoices` would change. Each test errs
 * towards parsing: a key counts wherever it appears, at any depth, and a value this scan does not recognise sends
 * the chunk to the parser. Inside a JSON string a quote is escaped, so a quoted name followed by a colon is a
 * key. It relies on keys being written without escapes (`"usage"`, never `"\u0075sage"`), as every JSON
 * serialiser writes them. The text must look like one object (`{` … `}`); it is not otherwise validated, so a
 * malformed inside is forwarded as the upstream sent it (and fails on the first read of `chunk`).
 */
export function forwardsUnchanged(data: string, finishReasons?: Readonly<Record<string, FinishReason>>): boolean {
  return scanChunk(data, finishReasons) !== PARSE;
}

/** What the scan of a chunk's text decided: parse it, forward it, or forward it and note the stream finished. */
type ScanResult = typeof PARSE | typeof FORWARD | typeof FORWARD_FINISHED;
const PARSE = 0;
const FORWARD = 1;
const FORWARD_FINISHED = 2;

/** {@link forwardsUnchanged}, telling also whether a forwarded chunk carries a (non-null) finish reason. */
function scanChunk(data: string, finishReasons: Readonly<Record<string, FinishReason>> | undefined): ScanResult {
  if (data.charCodeAt(0) !== OPEN_BRACE || data.charCodeAt(data.length - 1) !== CLOSE_BRACE) return PARSE;
  let choicesSeen = false;
  let finished = false;
  keysToCheck.lastIndex = 0;
  while (keysToCheck.test(data)) {
    const keyEnd = keysToCheck.lastIndex;
    const value = valueAfterKey(data, keyEnd);
    if (value === -1) continue;
    switch (data.charCodeAt(keyEnd - 2)) {
      case LAST_LETTER_OF_ERROR:
        return PARSE;
      case LAST_LETTER_OF_USAGE:
        if (!data.startsWith('null', value)) return PARSE;
        break;
      case LAST_LETTER_OF_CHOICES:
        if (data.charCodeAt(value) !== OPEN_BRACKET) return PARSE;
        choicesSeen = true;
        break;
      default:
        if (!finishReasonStays(data, value, finishReasons)) return PARSE;
        if (!data.startsWith('null', value)) finished = true;
    }
  }
  if (!choicesSeen) return PARSE;
  return finished ? FORWARD_FINISHED : FORWARD;
}

function finishReasonStays(data: string, value: number, finishReasons: Readonly<Record<string, FinishReason>> | undefined): boolean {
  if (data.startsWith('null', value)) return true;
  if (data.charCodeAt(value) !== QUOTE) return false;
  const end = data.indexOf('"', value + 1);
  if (end === -1) return false;
  const reason = data.slice(value + 1, end);
  return !reason.includes(BACKSLASH) && normalizeFinishReason(reason, finishReasons) === reason;
}

/**
 * Where the value starts when the quoted text that ends at `from` is a key (followed by a colon), else -1 (it
 * was a string value).
 */
function valueAfterKey(data: string, from: number): number {
  const colon = skipWhitespace(data, from);
  if (data.charCodeAt(colon) !== COLON) return -1;
  return skipWhitespace(data, colon + 1);
}

function skipWhitespace(data: string, from: number): number {
  let index = from;
  for (;;) {
    const code = data.charCodeAt(index);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return index;
    index += 1;
  }
}
