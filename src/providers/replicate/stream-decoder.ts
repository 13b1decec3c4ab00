/**
 * Replicate prediction stream (`GET urls.stream`) → OpenAI chunks. Events: `output` (plain-text fragment),
 * `logs` (ignored), `error` (JSON with `detail`), `done` (`{}`, or `{"reason":"canceled"|"error"}`).
 *
 * Usage: the stream carries no token counts. Replicate's streaming docs give `done` the data `{}` on success (or a
 * `reason`), never the prediction; the counts exist only in the settled prediction's `metrics`
 * (`input_token_count`, `output_token_count`). So after a clean `done` the core calls `complete()`, which GETs the
 * prediction's `urls.get` (polling briefly while it still reads `processing`) and emits a usage-only chunk, as an
 * OpenAI upstream asked for `include_usage` would. When that read fails or the prediction has no metrics,
 * `usage()` stays undefined and the core charges the reservation, flagged usage_missing: guessing counts from the
 * text would bill wrongly.
 */
import { createSseReader, PendingEvents, type EventSourceMessage } from '../sse-reader.js';
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason } from '../../spec/openai.js';
import type { ProviderContext, StreamDecoder, StreamEvent, UpstreamError } from '../../spec/provider.js';
import { toOpenAIUsage, type TokenUsage } from '../../spec/usage.js';
import { cancelQuietly, settlePrediction, type PollingSettings } from './polling.js';
import { isPending, readPrediction, readPredictionUsage } from './prediction.js';
import type { ReplicatePrediction } from './wire-types.js';

type Delta = ChatCompletionChunkChoice['delta'];

/** What the decoder needs to read the settled prediction's token counts once the stream is done. */
export interface PredictionLookup {
  /** The prediction as created; its `urls.get` is read after `done`. */
  prediction: ReplicatePrediction;
  /** The GET URL for a prediction that names none, with `{id}` standing for its id. */
  fallbackGetUrl: string;
  /** Authorization (and configured extra) headers for the GET. */
  headers: Record<string, string>;
  polling: PollingSettings;
}

/**
 * After `done` the output is complete and the prediction settles within moments, so a handful of polls is
 * plenty; the client's `[DONE]` waits on them, and a run that still reads `processing` after them is reported
 * without usage rather than held open.
 */
const MAX_POLLS_AFTER_DONE = 5;

/**
 * Creates the decoder for one streamed Replicate attempt. With `lookup`, `complete()` reads the token counts of
 * the prediction after a clean end; without it the stream is reported without usage. With `lookup`, a client that
 * leaves before the stream's end gets the prediction cancelled: closing the event stream does not stop the run, which
 * would otherwise go on, billed, to its end.
 */
export function createReplicateStreamDecoder(context: ProviderContext, lookup?: PredictionLookup): StreamDecoder {
  const created = Math.floor(context.now() / 1000);
  const id = `chatcmpl-${context.requestId}`;
  let roleSent = false;
  let ended = false;
  let succeeded = false;
  let finished = false;
  let completed = false;
  let usage: TokenUsage | undefined;
  const pending = new PendingEvents();

  const chunk = (delta: Delta, finishReason: FinishReason | null = null): void => {
    if (!roleSent) {
      roleSent = true;
      if (!('role' in delta)) chunk({ role: 'assistant', content: '' });
    }
    const value: ChatCompletionChunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: context.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
    pending.push({ kind: 'chunk', chunk: value });
  };

  const fail = (error: UpstreamError): void => {
    ended = true;
    pending.push({ kind: 'error', error });
  };

  const handle = (message: EventSourceMessage): void => {
    if (ended) return;
    switch (message.event) {
      case 'output':
        if (message.data !== '') chunk({ content: message.data });
        return;
      case 'error':
        fail({ status: 502, type: 'server_error', code: 'prediction_failed', message: `Replicate prediction failed: ${errorDetail(message.data)}` });
        return;
      case 'done': {
        const reason = doneReason(message.data);
        if (reason === 'canceled' || reason === 'aborted') {
          fail({ status: 502, type: 'server_error', code: 'prediction_canceled', message: `The Replicate prediction was ${reason}.` });
        } else if (reason === 'error') {
          fail({ status: 502, type: 'server_error', code: 'prediction_failed', message: 'The Replicate prediction ended with an error.' });
        } else {
          chunk({}, 'stop');
          ended = true;
          succeeded = true;
        }
        return;
      }
      default:
        // `logs` and anything Replicate adds later carry no model output.
        return;
    }
  };

  if (lookup !== undefined && context.signal !== undefined) {
    context.signal.addEventListener(
      'abort',
      () => {
        if (!ended) void cancelQuietly(lookup.prediction, context, lookup.headers);
      },
      { once: true },
    );
  }

  const reader = createSseReader(handle);

  return {
    push(data: Uint8Array): StreamEvent[] {
      if (!ended) reader.feed(data);
      return pending.take();
    },
    finish(): StreamEvent[] {
      if (!ended) reader.end();
      if (!ended) fail({ status: 502, type: 'server_error', code: 'upstream_stream_incomplete', message: 'The Replicate stream ended before its done event.' });
      finished = true;
      return pending.take();
    },
    async complete(signal?: AbortSignal): Promise<StreamEvent[]> {
      // Only a prediction that streamed to a clean done has counts worth reading, and only once.
      if (!finished || !succeeded || completed || !lookup) return [];
      completed = true;
      try {
        const settled = await readSettledPrediction(signal ? { ...context, signal } : context, lookup);
        // Only a prediction that says it succeeded vouches for its counts.
        const counts = settled?.status === 'succeeded' ? readPredictionUsage(settled) : undefined;
        if (!counts) return [];
        usage = counts;
        const value: ChatCompletionChunk = { id, object: 'chat.completion.chunk', created, model: context.model, choices: [], usage: toOpenAIUsage(counts) };
        return [{ kind: 'chunk', chunk: value }];
      } catch {
        // The reply was delivered whole; without counts the core charges the reservation as usage_missing.
        return [];
      }
    },
    usage: () => usage,
  };
}

/**
 * GETs the prediction and, while it still reads `starting`/`processing`, polls it a few more times. Undefined when
 * Replicate answers the GET with an error. `settlePrediction` cancels a prediction still pending after its polls;
 * by then `done` said the output was complete, so that stops nothing the client was owed.
 */
async function readSettledPrediction(context: ProviderContext, lookup: PredictionLookup): Promise<ReplicatePrediction | undefined> {
  const { prediction, headers, fallbackGetUrl } = lookup;
  const url = prediction.urls?.get ?? fallbackGetUrl.replace('{id}', encodeURIComponent(prediction.id));
  const response = await context.send({ method: 'GET', url, headers }, context.signal);
  if (response.status < 200 || response.status >= 300) return undefined;
  const current = readPrediction(response);
  if (!isPending(current)) return current;
  const polling = { ...lookup.polling, maxPolls: Math.min(lookup.polling.maxPolls, MAX_POLLS_AFTER_DONE) };
  return settlePrediction(current, context, headers, fallbackGetUrl, polling);
}

function errorDetail(data: string): string {
  const parsed = parseObject(data);
  if (typeof parsed?.detail === 'string') return parsed.detail;
  if (typeof parsed?.error === 'string') return parsed.error;
  // A plain-text error (or one of another shape) is relayed as it is.
  return data === '' ? 'no error message' : data;
}

function doneReason(data: string): string | undefined {
  const reason = parseObject(data)?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}

/** The event's data as a JSON object; undefined when it is not JSON or JSON of another kind (`null`, a list). */
function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
