/**
 * The body of a streamed upstream reply, filled by an undici dispatch handler and read with `for await`, or with
 * callbacks (`read`) by a reader that would otherwise only turn the promise of each read back into a call.
 *
 * undici's `request` API hands a streamed body over as a Readable, and `for await` over a Readable goes through
 * Node's stream machinery on every read (buffer list, 'readable' events, end-of-stream listeners): together a
 * visible part of a relayed stream's CPU. A relay needs much less: the bytes of each socket read, in order, with
 * backpressure and errors. So the handler pushes each chunk here and the reader takes everything queued at once.
 *
 * - One socket read arrives as several chunks (one per chunk of the chunked encoding, all within one synchronous
 *   run of undici's parser); a waiting reader is woken once, from a microtask after that run, and gets them joined,
 *   as a Readable's `read()` would. The microtask is a reaction to a settled promise rather than `queueMicrotask`,
 *   which wraps each callback in an async resource and a bound function (a few hundred bytes of garbage a read).
 * - Backpressure: past `highWaterMark` queued bytes the upstream is paused; it resumes when the reader takes them.
 * - A failure is handed to `classify` and thrown from the next read, after the bytes that came before it.
 * - Leaving the loop early (`return`) aborts the upstream request, as destroying the Readable did.
 */

import { MAX_UPSTREAM_REPLY_BYTES, replyTooLarge } from './reply-bound.js';

/** The part of undici's dispatch controller the body drives. */
export interface FlowControl {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
  readonly paused: boolean;
}

/**
 * A reader of the body by callbacks: told of the next bytes (everything queued, joined), of the body's end, or of the
 * transfer's failure as `classify` made it. Exactly one of the three is called per `read`.
 */
export interface BodyReader {
  bodyData(bytes: Uint8Array): void;
  bodyEnd(): void;
  bodyError(error: unknown): void;
}

/** Turns one callback read into the promise of an async iterator's read. */
class PromisedRead implements BodyReader {
  constructor(
    private readonly resolve: (result: IteratorResult<Uint8Array, undefined>) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  bodyData(bytes: Uint8Array): void {
    this.resolve({ done: false, value: bytes });
  }

  bodyEnd(): void {
    this.resolve(finished);
  }

  bodyError(error: unknown): void {
    this.reject(error);
  }
}

const finished: IteratorResult<Uint8Array, undefined> = { done: true, value: undefined };

const settled = Promise.resolve();

/** Where the transfer stands: still running, or how it stopped. Only `open` accepts more. */
type TransferState = 'open' | 'ended' | 'failed' | 'discarded';

/** A queue of body chunks read as an async iterator; see the module comment. */
export class StreamedBody implements AsyncIterableIterator<Uint8Array, undefined> {
  // What is queued: one chunk alone (the usual case: one socket read, one chunk of the chunked encoding), or a list
  // once there are more. A single list emptied with `length = 0` would give its storage back and take new storage
  // on the next chunk: a hundred-odd bytes of garbage per read.
  #single: Buffer | undefined;
  #several: Buffer[] | undefined;
  #queued = 0;
  #state: TransferState = 'open';
  #failure: unknown;
  #reader: BodyReader | undefined;
  #wakeScheduled = false;
  #control: FlowControl | undefined;

  private readonly highWaterMark: number;
  private readonly maxReplyBytes: number;

  /**
   * @param classify turns a failure of the transfer into the error the reader sees.
   * @param options `highWaterMark`: queued bytes past which the upstream is paused (64 KiB); `maxReplyBytes`: the
   *   most `readAll` joins ({@link MAX_UPSTREAM_REPLY_BYTES}).
   */
  constructor(
    private readonly classify: (error: unknown) => unknown,
    options: { highWaterMark?: number; maxReplyBytes?: number } = {},
  ) {
    this.highWaterMark = options.highWaterMark ?? 64 * 1024;
    this.maxReplyBytes = options.maxReplyBytes ?? MAX_UPSTREAM_REPLY_BYTES;
  }

  /** The controller of the request, once undici has started it. */
  attach(control: FlowControl): void {
    this.#control = control;
  }

  /** A chunk of the body, as undici's handler receives it. */
  push(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    if (this.#several !== undefined) this.#several.push(chunk);
    else if (this.#single === undefined) this.#single = chunk;
    else {
      this.#several = [this.#single, chunk];
      this.#single = undefined;
    }
    this.#queued += chunk.length;
    if (this.#queued >= this.highWaterMark && this.#control && !this.#control.paused) this.#control.pause();
    this.#scheduleWake();
  }

  /** The body ended normally. */
  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    this.#scheduleWake();
  }

  /** The transfer failed; the reader sees it after the chunks queued before it. */
  fail(error: unknown): void {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#failure = error;
    this.#scheduleWake();
  }

  /** Stops the transfer if it is still running; nothing more is read. */
  discard(): void {
    if (this.#state === 'discarded') return;
    const running = this.#state === 'open';
    this.#state = 'discarded';
    this.#single = undefined;
    this.#several = undefined;
    this.#queued = 0;
    if (running) this.#control?.abort(new Error('The streamed body was discarded'));
    this.#scheduleWake();
  }

  /**
   * Reads by callback: `reader` is told of what is queued, the end or the failure at once (before `read` returns) when
   * one is ready, or else as soon as one is. One read at a time.
   */
  read(reader: BodyReader): void {
    if (this.#reader) throw new Error('StreamedBody: one read at a time');
    this.#reader = reader;
    this.#deliver();
  }

  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.#reader) return Promise.reject(new Error('StreamedBody: one read at a time'));
    return new Promise((resolve, reject) => {
      this.read(new PromisedRead(resolve, reject));
    });
  }

  return(): Promise<IteratorResult<Uint8Array, undefined>> {
    this.discard();
    return Promise.resolve(finished);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * All that is left of the body, joined (for error replies). Beyond the bound the body was made with, the rest is
   * discarded (the connection closed) and `replyTooLarge` is thrown.
   */
  async readAll(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let result = await this.next(); !result.done; result = await this.next()) {
      length += result.value.length;
      if (length > this.maxReplyBytes) {
        this.discard();
        throw replyTooLarge(this.maxReplyBytes);
      }
      parts.push(result.value);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Hands the waiting reader what is ready: the queued bytes joined, else the end or the failure; else keeps it waiting. */
  #deliver(): void {
    const reader = this.#reader;
    if (reader === undefined) return;
    if (this.#single !== undefined || this.#several !== undefined) {
      const value = this.#several !== undefined ? Buffer.concat(this.#several, this.#queued) : this.#single!;
      this.#single = undefined;
      this.#several = undefined;
      this.#queued = 0;
      if (this.#state === 'open' && this.#control?.paused) this.#control.resume();
      this.#reader = undefined;
      reader.bodyData(value);
      return;
    }
    if (this.#state === 'open') return;
    this.#reader = undefined;
    if (this.#state === 'failed') reader.bodyError(this.classify(this.#failure));
    else reader.bodyEnd();
  }

  #scheduleWake(): void {
    if (this.#reader === undefined || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    void settled.then(this.#wake);
  }

  readonly #wake = (): void => {
    this.#wakeScheduled = false;
    this.#deliver();
  };
}
