/**
 * Replicate prediction stream (`GET urls.stream`) → OpenAI chunks. Events: `output` (plain-text fragment),
 * `logs` (ignored), `error` (JSON with `detail`), `done` (`{}`, or `{"reason":"canceled"|"error"}`).
 *
 * Usage: the stream carries no token counts. Replicate's streaming docs give `done` the data `{}` on success (or a
 * `reason`), never the prediction; the counts exist only in the settled prediction's `metrics`
 * (`input_token_count`, `output_token_count`), read by a GET of `urls.get` after `done`. A decoder cannot make that
 * call: `finish()` and `usage()` are synchronous and the core reads `usage()` as soon as `finish()` returns. So
 * `usage()` stays undefined, no usage chunk is emitted (clients asking for `include_usage` get none), and the core
 * charges the attempt its reservation, flagged usage_missing. Reporting usage needs the decoder seam to allow one
 * asynchronous step after `finish()`; until then, guessing counts from the text would bill wrongly.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason } from '../../spec/openai.js';
import type { ProviderContext, StreamDecoder, StreamEvent, UpstreamError } from '../../spec/provider.js';

type Delta = ChatCompletionChunkChoice['delta'];

/** Creates the decoder for one streamed Replicate attempt. */
export function createReplicateStreamDecoder(context: Pick<ProviderContext, 'model' | 'requestId' | 'now'>): StreamDecoder {
  const created = Math.floor(context.now() / 1000);
  const id = `chatcmpl-${context.requestId}`;
  const textDecoder = new TextDecoder();
  let roleSent = false;
  let ended = false;
  let pending: StreamEvent[] = [];

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
        }
        return;
      }
      default:
        // `logs` and anything Replicate adds later carry no model output.
        return;
    }
  };

  const parser = createParser({ onEvent: handle });
  const drain = (): StreamEvent[] => {
    const out = pending;
    pending = [];
    return out;
  };

  return {
    push(data: Uint8Array): StreamEvent[] {
      if (!ended) parser.feed(textDecoder.decode(data, { stream: true }));
      return drain();
    },
    finish(): StreamEvent[] {
      // Two line ends complete an event whose final blank line never came; harmless when nothing is held.
      if (!ended) parser.feed(`${textDecoder.decode()}\n\n`);
      if (!ended) fail({ status: 502, type: 'server_error', code: 'upstream_stream_incomplete', message: 'The Replicate stream ended before its done event.' });
      return drain();
    },
    usage: () => undefined,
  };
}

function errorDetail(data: string): string {
  try {
    const parsed = JSON.parse(data) as { detail?: unknown; error?: unknown };
    if (typeof parsed.detail === 'string') return parsed.detail;
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // A plain-text error is relayed as it is.
  }
  return data === '' ? 'no error message' : data;
}

function doneReason(data: string): string | undefined {
  try {
    const parsed = JSON.parse(data) as { reason?: unknown };
    return typeof parsed.reason === 'string' && parsed.reason !== '' ? parsed.reason : undefined;
  } catch {
    return undefined;
  }
}
