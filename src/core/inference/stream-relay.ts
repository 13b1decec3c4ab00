/**
 * The relay of one streamed upstream reply to its route: the body read through the provider's decoder, handed over
 * in batches (one per upstream read) by an async iterator the route loops over with `for await`.
 *
 * An async generator said this in fewer lines, but each step of one costs its own promises and trips through the
 * microtask queue on top of the body's read and the route's `for await`: with hundreds of streams open, each chunk
 * arriving in its own read, those made a visible part of a chunk's CPU and garbage. Here the body is read by
 * callback (`StreamedBody.read`), decoded in that callback, and the route's one promise per batch is settled with
 * it: one promise a read instead of four.
 *
 * The steps of a stream, in order: batches of events as the body arrives; the decoder's last events at the body's
 * end; then, for a decoder with a follow-up (`complete`, Replicate's usage), `content-end` and the follow-up's
 * events; then the end. An error event ends the batch it is in and the stream; so does a failure of the transfer
 * (turned into an `upstream_stream_broken` event unless the client is gone) and an upstream that sends more than
 * `maxPending` bytes without completing an event. Whichever way the stream ends (finished, broken, the route leaving
 * the loop early), the upstream request is released and `onClose` is called, exactly once.
 */
import { abortSignalOf, type CancelSignal } from '../../spec/cancellation.js';
import { errors, GatewayError } from '../../spec/errors.js';
import type { StreamDecoder, StreamEvent } from '../../spec/provider.js';
import { replyTooLarge } from '../dispatch/reply-bound.js';
import type { BodyReader } from '../dispatch/streamed-body.js';
import type { UpstreamStream } from '../dispatch/upstream-client.js';

/**
 * What a stream relays: the decoder's events, and `content-end` when the content is complete but the core still
 * reads the provider's follow-up for its usage (Replicate's token counts come from a GET of the prediction). A route
 * that owes its client nothing more may end the answer there; it keeps reading the events to their end, so that the
 * request is settled.
 */
export type RelayEvent = StreamEvent | { kind: 'content-end' };

/** How a stream ended, as its settlement records it; written by the relay and by the route (`fail`). */
export interface StreamEnding {
  status: number;
  errorCode: string | undefined;
}

export interface StreamRelayOptions {
  upstream: UpstreamStream;
  decoder: StreamDecoder;
  /** The client's cancellation: a transfer that fails after it is not reported to a client that is gone. */
  signal: CancelSignal;
  /** Written when the stream fails (an error event, a broken transfer); read at the end by `onClose`. */
  ending: StreamEnding;
  /** The most bytes the decoder may take without completing an event. */
  maxPending: number;
  /** Removes the key's credentials from an error message the upstream sent. */
  redact: (message: string) => string;
  /** Called once when the relay ends, after the upstream request was released. */
  onClose: () => void;
}

/** What the relay does when the route asks for the next batch. */
type Step = 'read' | 'content-end' | 'complete' | 'finish' | 'done';

const DONE: IteratorResult<RelayEvent[], void> = { done: true, value: undefined };

/** See the module comment. */
export class StreamRelay implements AsyncIterableIterator<RelayEvent[], void, void>, BodyReader {
  #step: Step = 'read';
  /** Bytes the decoder took since its last event: what it may be holding of an event not yet complete. */
  #pending = 0;
  #resolve: ((result: IteratorResult<RelayEvent[], void>) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(private readonly options: StreamRelayOptions) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<RelayEvent[], void>> {
    if (this.#step === 'done') return Promise.resolve(DONE);
    if (this.#resolve !== undefined) return Promise.reject(new Error('StreamRelay: one read at a time'));
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#advance();
    });
  }

  /** The route left the loop: the upstream request is released and the stream settled, if that has not happened yet. */
  return(): Promise<IteratorResult<RelayEvent[], void>> {
    // A read still waiting (the route called this without waiting for it) is answered too.
    const failure = this.#end();
    return failure === undefined ? Promise.resolve(DONE) : Promise.reject(failure.error);
  }

  // The body's callbacks (`BodyReader`); routes see the relay only as an AsyncIterable (`ChatResult.events`).

  bodyData(bytes: Uint8Array): void {
    if (this.#step !== 'read') return;
    let events: StreamEvent[];
    try {
      events = this.#screened(this.options.decoder.push(bytes));
    } catch (error) {
      this.#broken(error);
      return;
    }
    if (events.length > 0) {
      this.#pending = 0;
      this.#deliver(events);
      return;
    }
    // An upstream that never completes an event (no event boundary, a frame length it never fills) is cut off at
    // the bound a reply read whole has, rather than filling the gateway's memory.
    this.#pending += bytes.length;
    if (this.#pending > this.options.maxPending) {
      const maxPending = this.options.maxPending;
      const error = replyTooLarge(maxPending);
      this.#failWith(error);
      this.#step = 'finish';
      this.#deliver([
        {
          kind: 'error',
          error: { status: error.status, type: error.type, code: error.code, message: `The upstream stream sent more than ${maxPending} bytes without completing an event.` },
        },
      ]);
      return;
    }
    this.#readBody();
  }

  bodyEnd(): void {
    if (this.#step !== 'read') return;
    this.#relayThen(() => this.options.decoder.finish(), 'content-end');
  }

  bodyError(error: unknown): void {
    if (this.#step !== 'read') return;
    this.#broken(error);
  }

  /** Takes the next step for the waiting read. */
  #advance(): void {
    try {
      switch (this.#step) {
        case 'read':
          // The route may have recorded a failure of its own (`fail`) while it wrote the last batch.
          if (this.options.ending.errorCode !== undefined) this.#end();
          else this.#readBody();
          return;
        case 'content-end': {
          const { ending, signal, decoder } = this.options;
          if (ending.errorCode === undefined && !signal.aborted && decoder.complete) {
            this.#step = 'complete';
            this.#deliver([{ kind: 'content-end' }]);
          } else {
            this.#end();
          }
          return;
        }
        case 'complete':
          void this.#complete();
          return;
        default:
          this.#end();
      }
    } catch (error) {
      this.#abandon(error);
    }
  }

  #readBody(): void {
    this.options.upstream.body.read(this);
  }

  /** The follow-up of a decoder that has one, once the body ended whole. */
  async #complete(): Promise<void> {
    let completion: StreamEvent[];
    try {
      completion = await this.options.decoder.complete!(abortSignalOf(this.options.signal));
    } catch {
      // The reply itself arrived whole; only what the follow-up would add is missing, so usage stays unknown.
      completion = [];
    }
    if (this.#step !== 'complete') return;
    this.#relayThen(() => completion, 'finish');
  }

  /**
   * Relays the last events of a step (the decoder's at the body's end, the follow-up's), then goes on to `then` at
   * once when there are none. A failure to make them breaks the stream.
   */
  #relayThen(produce: () => StreamEvent[], then: Step): void {
    let events: StreamEvent[];
    try {
      events = this.#screened(produce());
    } catch (error) {
      this.#broken(error);
      return;
    }
    this.#step = then;
    if (events.length > 0) this.#deliver(events);
    else this.#advance();
  }

  /**
   * Redacts a credential echoed in an error event (whatever the provider) and notes how the stream failed; the
   * batch is cut after the error, which ends the stream.
   */
  #screened(events: StreamEvent[]): StreamEvent[] {
    let failedAt = -1;
    for (let index = 0; index < events.length; index += 1) {
      if (events[index]!.kind === 'error') {
        failedAt = index;
        break;
      }
    }
    if (failedAt < 0) return events;
    const event = events[failedAt]!;
    if (event.kind === 'error') {
      this.options.ending.status = event.error.status;
      this.options.ending.errorCode = event.error.code ?? 'upstream_stream_error';
      event.error.message = this.options.redact(event.error.message);
    }
    this.#step = 'finish';
    return failedAt === events.length - 1 ? events : events.slice(0, failedAt + 1);
  }

  /** The transfer failed (or the decoder could not go on): one last error event, unless the client is gone. */
  #broken(error: unknown): void {
    const gatewayError = error instanceof GatewayError ? error : errors.badGateway('The upstream stream failed');
    this.#failWith(gatewayError);
    if (this.options.signal.aborted) {
      this.#end();
      return;
    }
    this.#step = 'finish';
    this.#deliver([
      {
        kind: 'error',
        error: { status: 502, type: 'upstream_error', code: 'upstream_stream_broken', message: `The upstream stream ended unexpectedly: ${gatewayError.message}` },
      },
    ]);
  }

  #failWith(error: GatewayError): void {
    this.options.ending.status = error.status;
    this.options.ending.errorCode = error.code;
  }

  #deliver(events: RelayEvent[]): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve?.({ done: false, value: events });
  }

  /** Ends the stream and answers the waiting read with its end, or with the failure to close it, which it returns. */
  #end(): { error: unknown } | undefined {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    try {
      this.#close();
    } catch (error) {
      reject?.(error);
      return { error };
    }
    resolve?.(DONE);
    return undefined;
  }

  /** Releases the upstream request and calls `onClose`, once. */
  #close(): void {
    if (this.#step === 'done') return;
    this.#step = 'done';
    this.options.upstream.discard();
    this.options.onClose();
  }

  /** A failure of the relay's own (not the stream's): the waiting read is rejected with it after the stream is closed. */
  #abandon(error: unknown): void {
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    try {
      this.#close();
    } catch {
      // The first failure is the one reported.
    }
    reject?.(error);
  }
}
