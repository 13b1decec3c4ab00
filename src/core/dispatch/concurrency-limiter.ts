import type { CancelSignal } from '../../spec/cancellation.js';
import { errors, GatewayError } from '../../spec/errors.js';

/**
 * Bounds in-flight requests per provider (`concurrency`) and queues up to `buffer_size` more; beyond that a
 * request fails fast with 429 rather than piling up latency.
 */
export class ConcurrencyLimiter {
  #active = 0;
  readonly #waiting: Array<{ resolve: () => void; reject: (error: Error) => void; signal: CancelSignal | undefined; onAbort: () => void }> = [];

  constructor(
    private concurrency: number,
    private bufferSize: number,
    private readonly provider: string,
  ) {}

  /** Applies changed settings; queued requests beyond a smaller limit keep their place. */
  configure(concurrency: number, bufferSize: number): void {
    this.concurrency = concurrency;
    this.bufferSize = bufferSize;
    this.#drain();
  }

  get active(): number {
    return this.#active;
  }

  /** The most requests in flight at once (the provider's `concurrency`). */
  get limit(): number {
    return this.concurrency;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot; the returned function frees it (calling it twice is harmless). A request whose client leaves
   * before it gets a slot fails with 499 `client_closed_request`, like any other cancelled request.
   */
  async acquire(signal?: CancelSignal): Promise<() => void> {
    // An abort listener added now would never fire, so a request whose client already left would hold its place
    // in the queue until a slot freed only to give it up at once.
    if (signal?.aborted) throw this.#clientClosed();
    if (this.#active < this.concurrency && this.#waiting.length === 0) {
      this.#active += 1;
      return this.#releaser();
    }
    if (this.#waiting.length >= this.bufferSize) {
      throw errors.rateLimited(
        `Provider "${this.provider}" is at its concurrency limit (${this.concurrency} in flight, ${this.bufferSize} queued); retry shortly`,
        { code: 'provider_queue_full', provider: this.provider, retryable: false, headers: { 'retry-after': '1' } },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#waiting.indexOf(entry);
          if (index >= 0) this.#waiting.splice(index, 1);
          // The client's leaving is not the gateway's failure: metrics and the ledger count it as 499, not 502.
          reject(this.#clientClosed());
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.#waiting.push(entry);
    });
    return this.#releaser();
  }

  #clientClosed(): GatewayError {
    return new GatewayError({
      status: 499,
      type: 'invalid_request_error',
      code: 'client_closed_request',
      message: `The request was cancelled while waiting for a slot of provider "${this.provider}"`,
      provider: this.provider,
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active -= 1;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#active < this.concurrency && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      next.signal?.removeEventListener('abort', next.onAbort);
      this.#active += 1;
      next.resolve();
    }
  }
}
