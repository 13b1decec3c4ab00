/**
 * The relay of one streamed upstream reply to its route: the body read through the provider's decoder and handed
 * over in batches (one per upstream read), by callback (`read`, what the routes use) or as an async iterator.
 *
 * An async generator said this in fewer lines, but each step of one costs its own promises and trips through the
 * microtask queue on top of the body's read and the route's `for await`: with hundreds of streams open, each chunk
 * arriving in its own read, those made a visible part of a chunk's CPU and garbage. Here the body is read by
 * callback (`StreamedBody.read`), decoded in that callback, and the batch handed to the route's reader in the same
 * call: no promise per read. A reader answered before `read` returns knows the next batch was ready; one that is
 * not knows the relay now waits for the upstream, which is when a route sends what it has written.
 *
 * The steps of a stream, in order: batches of events as the body arrives; the decoder's last events at the body's
 * end; then, for a decoder with a follow-up (`complete`, Replicate's usage), `content-end` and the follow-up's
 * events; then the end. An error event ends the batch it is in and the stream; so does a failure of the transfer
 * (turned into an `upstream_stream_broken` event unless the client is gone) and an upstream that sends more than
 * `maxPending` bytes without completing an event. Whichever way the stream ends (finished, broken, the route
 * stopping early), the upstream request is released and `onClose` is called, exactly once.
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

/**
 * A reader of the relay by callbacks: exactly one of the three is called per `read`, at once (before `read` returns)
 * when a batch or the end is ready, else as soon as one is. They are called from the upstream's callbacks, so they
 * must not throw: what goes wrong in them is the reader's to handle (`stop`).
 */
export interface RelayReader {
  /** The next batch: never empty; an error event, if any, is its last (and the stream's). */
  relayBatch(events: RelayEvent[]): void;
  /** The stream ended and is closed (the upstream request released, the stream settled). */
  relayEnd(): void;
  /** The relay failed on its own (not the stream: `onClose`, a decoder's bug); the stream is closed. */
  relayFailed(error: unknown): void;
}

/** The relay as a route sees it (`ChatResult.events`). */
export interface RelayEvents extends AsyncIterable<RelayEvent[]> {
  /** Asks for the next batch; one read at a time. See `RelayReader`. */
  read(reader: RelayReader): void;
  /**
   * The route is done with the stream before its end: the upstream request is released and the stream settled, if
   * that has not happened yet. A read still waiting is answered with the end. Returns the failure to close it, if any.
   */
  stop(): { error: unknown } | undefined;
}

/** Turns one callback read into the promise of an async iterator's read. */
class PromisedRelayRead implements RelayReader {
  constructor(
    private readonly resolve: (result: IteratorResult<RelayEvent[], void>) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  relayBatch(events: RelayEvent[]): void {
    this.resolve({ done: false, value: events });
  }

  relayEnd(): void {
    this.resolve(DONE);
  }

  relayFailed(error: unknown): void {
    this.reject(error);
  }
}

/** What the relay does when the route asks for the next batch. */
type Step = 'read' | 'content-end' | 'complete' | 'finish' | 'done';

const DONE: IteratorResult<RelayEvent[], void> = { done: true, value: undefined };

/** See the module comment. */
export class StreamRelay implements AsyncIterableIterator<RelayEvent[], void, void>, RelayEvents, BodyReader {
  #step: Step = 'read';
  /** Bytes the decoder took since its last event: what it may be holding of an event not yet complete. */
  #pending = 0;
  #reader: RelayReader | undefined;

  constructor(private readonly options: StreamRelayOptions) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  read(reader: RelayReader): void {
    if (this.#reader !== undefined) throw new Error('StreamRelay: one read at a time');
    if (this.#step === 'done') {
      reader.relayEnd();
      return;
    }
    this.#reader = reader;
    this.#advance();
  }

  stop(): { error: unknown } | undefined {
    return this.#end();
  }

  next(): Promise<IteratorResult<RelayEvent[], void>> {
    if (this.#step === 'done') return Promise.resolve(DONE);
    if (this.#reader !== undefined) return Promise.reject(new Error('StreamRelay: one read at a time'));
    return new Promise((resolve, reject) => {
      this.read(new PromisedRelayRead(resolve, reject));
    });
  }

  /** The route left the loop: as `stop`, with the failure to close as a rejection. */
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
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.relayBatch(events);
  }

  /** Ends the stream and answers the waiting read with its end, or with the failure to close it, which it returns. */
  #end(): { error: unknown } | undefined {
    const reader = this.#reader;
    this.#reader = undefined;
    try {
      this.#close();
    } catch (error) {
      reader?.relayFailed(error);
      return { error };
    }
    reader?.relayEnd();
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
    const reader = this.#reader;
    this.#reader = undefined;
    try {
      this.#close();
    } catch {
      // The first failure is the one reported.
    }
    reader?.relayFailed(error);
  }
}
