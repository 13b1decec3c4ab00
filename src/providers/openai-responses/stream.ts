/**
 * The streamed answer to a native Responses request (see `NativeRequest`; OpenAI's, or Azure OpenAI's v1 API's): each
 * event forwarded as the upstream wrote it, the usage read from the response's last event, and errors turned into the
 * stream's end.
 */
import { isRecord, isWholeNumber } from '../../spec/json-value.js';
import type { StreamDecoder, UpstreamError } from '../../spec/provider.js';
import { fromResponsesUsage, type TokenUsage } from '../../spec/usage.js';
import { redactSecrets, streamErrorFromPayload } from '../openai-compatible/index.js';
import { createSseReader, PendingEvents, sseEventText, type EventSourceMessage } from '../sse-reader.js';
import { itemProblem, responseProblem } from './reply.js';

/** The events that carry the whole Response. */
const LIFECYCLE_EVENTS = new Set(['response.created', 'response.in_progress', 'response.queued', 'response.completed', 'response.incomplete', 'response.failed']);
/** The events after which a response has nothing more to say. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete']);

/**
 * What keeps an event from being forwarded as OpenAI's SDKs read it, or undefined: every event names its type and
 * its place in the stream (`sequence_number`), a lifecycle event carries a sound Response, an item event its item.
 */
function unforwardable(event: Record<string, unknown>): string | undefined {
  if (typeof event.type !== 'string') return 'it has no type';
  if (!isWholeNumber(event.sequence_number)) return 'it has no sequence number';
  if (LIFECYCLE_EVENTS.has(event.type)) return isRecord(event.response) ? responseProblem(event.response, FINAL_EVENTS.has(event.type)) : 'it carries no response';
  for (const index of POSITIONS) if (event[index] !== undefined && !isWholeNumber(event[index])) return `its ${index} is not a position`;
  if (event.type === 'response.output_item.added' || event.type === 'response.output_item.done') {
    if (!isWholeNumber(event.output_index)) return 'its item has no index';
    // An item just added is still empty: its parts and arguments come in the events that follow.
    if (event.type === 'response.output_item.added') return isRecord(event.item) && typeof event.item.type === 'string' ? undefined : 'its item has no type';
    return itemProblem(event.item);
  }
  if (event.part !== undefined && !(isRecord(event.part) && typeof event.part.type === 'string')) return 'its part has no type';
  if (event.type.endsWith('.delta') && event.delta !== undefined && typeof event.delta !== 'string') return 'its delta is not text';
  return undefined;
}

/** The members by which an event places itself in the response, whole numbers where given. */
const POSITIONS = ['output_index', 'content_index', 'summary_index'] as const;

function malformed(message: string): UpstreamError {
  return { status: 502, type: 'server_error', code: 'upstream_invalid_stream', message };
}

/**
 * Creates the decoder of one native Responses stream: `native` events, each the upstream's event as SSE text named
 * by its data's type. An `error` event or a failed response ends the stream with an error (the route's own error
 * event, numbered after the upstream's last), as does an event that cannot be forwarded and a stream cut before its
 * response completed. `secrets` are taken out of error messages; `upstream` names the server in them (OpenAI's by default).
 */
export function createResponsesStreamDecoder(options: { secrets?: readonly (string | undefined)[]; upstream?: string } = {}): StreamDecoder {
  const upstream = options.upstream ?? 'OpenAI';
  const pending = new PendingEvents();
  let usage: TokenUsage | undefined;
  let started = false;
  let lastSequence = -1;
  let ended = false;
  let failed = false;

  const fail = (error: UpstreamError): void => {
    failed = true;
    error.message = redactSecrets(error.message, options.secrets ?? []);
    pending.push({ kind: 'error', error });
  };

  const handle = (message: EventSourceMessage): void => {
    if (failed || ended || message.data.trim() === '') return;
    let event: unknown;
    try {
      event = JSON.parse(message.data);
    } catch {
      fail(malformed(`${upstream} sent a stream event that is not JSON.`));
      return;
    }
    if (!isRecord(event)) {
      fail(malformed(`${upstream} sent a stream event that is not a JSON object.`));
      return;
    }
    if (event.type === 'error') {
      // OpenAI's error event holds the error's members beside its own `type`; some servers nest them in `error`.
      fail(streamErrorFromPayload({ error: isRecord(event.error) ? event.error : { code: event.code, message: event.message, param: event.param } }));
      return;
    }
    if (event.type === 'response.failed') {
      const response = isRecord(event.response) ? event.response : {};
      if (response.usage !== undefined) usage = fromResponsesUsage(response.usage);
      fail(streamErrorFromPayload({ error: isRecord(response.error) ? response.error : { message: 'The upstream response failed.' } }));
      return;
    }
    const problem = unforwardable(event);
    if (problem !== undefined) {
      fail(malformed(`${upstream} sent a stream event that cannot be forwarded: ${problem}.`));
      return;
    }
    const type = event.type as string;
    // A client applies each event once, in order: one repeated or out of place would change what it builds.
    const sequence = event.sequence_number as number;
    if (sequence <= lastSequence) {
      fail(malformed(`${upstream} sent event ${sequence} after event ${lastSequence}.`));
      return;
    }
    lastSequence = sequence;
    // OpenAI's SDKs build the response from its first event on, and throw at a stream that begins with another.
    if (!started && type !== 'response.created') {
      fail(malformed(`${upstream}'s stream began with ${type.slice(0, 100)} instead of response.created.`));
      return;
    }
    started = true;
    if (FINAL_EVENTS.has(type)) {
      ended = true;
      usage = fromResponsesUsage((event.response as Record<string, unknown>).usage);
    }
    pending.push({ kind: 'native', text: sseEventText(type, message.data) });
  };

  const reader = createSseReader(handle);
  return {
    push(data) {
      reader.feed(data);
      return pending.take();
    },
    finish() {
      reader.end();
      if (!failed && !ended) fail(malformed(`The ${upstream} stream ended before its response completed.`));
      return pending.take();
    },
    usage() {
      return usage;
    },
  };
}
