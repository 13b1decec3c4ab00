/**
 * The body of a streamed upstream reply, filled by an undici dispatch handler and read with `for await`.
 *
 * undici's `request` API hands a streamed body over as a Readable, and `for await` over a Readable goes through
 * Node's stream machinery on every read (buffer list, 'readable' events, end-of-stream listeners): together a
 * visible part of a relayed stream's CPU. A relay needs much less: the bytes of each socket read, in order, with
 * backpressure and errors. So the handler pushes each chunk here and the reader takes everything queued at once.
 *
 * - One socket read arrives as several chunks (one per chunk of the chunked encoding, all within one synchronous
 *   run of undici's parser); a waiting reader is woken once, from a microtask after that run, and gets them joined,
 *   as a Readable's `read()` would.
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

interface Waiter {
  resolve: (result: IteratorResult<Uint8Array, undefined>) => void;
  reject: (error: unknown) => void;
}

const finished: IteratorResult<Uint8Array, undefined> = { done: true, value: undefined };

/** What `#take` answers when nothing is ready yet. */
const wait = Symbol('wait');

/** Where the transfer stands: still running, or how it stopped. Only `open` accepts more. */
type TransferState = 'open' | 'ended' | 'failed' | 'discarded';

/** A queue of body chunks read as an async iterator; see the module comment. */
export class StreamedBody implements AsyncIterableIterator<Uint8Array, undefined> {
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #state: TransferState = 'open';
  #failure: unknown;
  #waiter: Waiter | undefined;
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
    this.#queue.push(chunk);
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
    this.#queue.length = 0;
    this.#queued = 0;
    if (running) this.#control?.abort(new Error('The streamed body was discarded'));
    this.#scheduleWake();
  }

  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.#waiter) return Promise.reject(new Error('StreamedBody: one read at a time'));
    try {
      const ready = this.#take();
      if (ready !== wait) return Promise.resolve(ready);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
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

  /** What a read returns now (throwing the classified failure), or `wait`. */
  #take(): IteratorResult<Uint8Array, undefined> | typeof wait {
    const queue = this.#queue;
    if (queue.length > 0) {
      const value = queue.length === 1 ? queue[0]! : Buffer.concat(queue, this.#queued);
      queue.length = 0;
      this.#queued = 0;
      if (this.#state === 'open' && this.#control?.paused) this.#control.resume();
      return { done: false, value };
    }
    switch (this.#state) {
      case 'open':
        return wait;
      case 'failed':
        throw this.classify(this.#failure);
      default:
        return finished;
    }
  }

  #scheduleWake(): void {
    if (this.#waiter === undefined || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(this.#wake);
  }

  readonly #wake = (): void => {
    this.#wakeScheduled = false;
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    let ready: IteratorResult<Uint8Array, undefined> | typeof wait;
    try {
      ready = this.#take();
    } catch (error) {
      this.#waiter = undefined;
      waiter.reject(error);
      return;
    }
    if (ready === wait) return;
    this.#waiter = undefined;
    waiter.resolve(ready);
  };
}
