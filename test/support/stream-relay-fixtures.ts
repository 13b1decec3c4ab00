/**
 * A stream relay over a real StreamedBody, for the tests of the relay and of the routes' pump: the test pushes the
 * upstream's bytes into `body` and sees what the relay closed with (`closes`) and whether the upstream request was
 * released (`discarded`).
 */
import { StreamedBody, type FlowControl } from '../../src/core/dispatch/streamed-body.js';
import type { UpstreamStream } from '../../src/core/dispatch/upstream-client.js';
import { StreamRelay, type RelayEvent, type StreamEnding } from '../../src/core/inference/stream-relay.js';
import { Cancellation } from '../../src/spec/cancellation.js';
import type { Random } from './json-fuzz.js';
import { errors } from '../../src/spec/errors.js';
import type { ChatCompletionChunk } from '../../src/spec/openai.js';
import type { StreamDecoder, StreamEvent } from '../../src/spec/provider.js';

/**
 * A decoder for the tests: each `\n`-terminated line is one event; `error:<code>` is an upstream error event whose
 * message quotes the key's secret. `complete` (when given) is the follow-up a Replicate-like decoder makes.
 */
export function lineDecoder(complete?: () => Promise<StreamEvent[]>): StreamDecoder & { finished: number } {
  let held = '';
  const toEvents = (lines: string[]): StreamEvent[] =>
    lines.map((line) =>
      line.startsWith('error:')
        ? { kind: 'error', error: { status: 429, type: 'rate_limit_error', code: line.slice(6), message: 'slow down, sk-secret' } }
        : { kind: 'chunk', chunk: { id: line } as unknown as ChatCompletionChunk },
    );
  const decoder = {
    finished: 0,
    push(data: Uint8Array): StreamEvent[] {
      held += Buffer.from(data).toString();
      const lines = held.split('\n');
      held = lines.pop()!;
      return toEvents(lines);
    },
    finish(): StreamEvent[] {
      decoder.finished += 1;
      const rest = held === '' ? [] : [held];
      held = '';
      return toEvents(rest);
    },
    usage: () => undefined,
    ...(complete ? { complete } : {}),
  };
  return decoder;
}

export class Control implements FlowControl {
  paused = false;
  aborted = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  abort(): void {
    this.aborted = true;
  }
}

/** `onClose`, when given, runs after the close is recorded (a settlement that throws, say). */
export function relayOf(options: { decoder?: StreamDecoder; maxPending?: number; signal?: Cancellation; onClose?: () => void } = {}) {
  const control = new Control();
  const body = new StreamedBody((error) => errors.timeout(`classified: ${(error as Error).message}`));
  body.attach(control);
  let discarded = 0;
  const upstream: UpstreamStream = {
    status: 200,
    headers: {},
    body,
    readAll: () => body.readAll(),
    discard: () => {
      discarded += 1;
      body.discard();
    },
  };
  const ending: StreamEnding = { status: 200, errorCode: undefined };
  const closes: StreamEnding[] = [];
  const signal = options.signal ?? new Cancellation();
  const relay = new StreamRelay({
    upstream,
    decoder: options.decoder ?? lineDecoder(),
    signal,
    ending,
    maxPending: options.maxPending ?? 1024,
    redact: (message) => message.replaceAll('sk-secret', '[redacted]'),
    onClose: () => {
      closes.push({ ...ending });
      options.onClose?.();
    },
  });
  return { relay, body, control, ending, closes, signal, discarded: () => discarded };
}

export function ids(batch: RelayEvent[]): string[] {
  return batch.map((event) => (event.kind === 'chunk' ? event.chunk.id : event.kind === 'error' ? `error:${event.error.code}` : event.kind));
}


/**
 * One step of a random upstream for the relay's schedules: `action` 0–4 sends a whole line, 5 part of one (or a
 * line too long for `maxPending` 40), 6 an error event, 7 ends the body (normally or with a failure). Returns the
 * text sent ('' for none) and whether the body ended; other actions do nothing here.
 */
export function upstreamStep(random: Random, body: StreamedBody, action: number, step: number): { sent: string; ended: boolean } {
  if (action === 7) {
    if (random.chance(0.5)) body.end();
    else body.fail(new Error('reset'));
    return { sent: '', ended: true };
  }
  const text = action < 5 ? `c${step}\n` : action === 5 ? random.pick(['par', 'tial-', 'x'.repeat(30)]) : action === 6 ? 'error:overloaded\n' : '';
  if (text !== '') body.push(Buffer.from(text));
  return { sent: text, ended: false };
}
