import { errors } from '../../spec/errors.js';

/**
 * Bounds in-flight requests per provider (`concurrency`) and queues up to `buffer_size` more; beyond that a
 * request fails fast with 429 rather than piling up latency.
 */
export class ConcurrencyLimiter {
  #active = 0;
  readonly #waiting: Array<{ resolve: () => void; reject: (error: Error) => void; signal: AbortSignal | undefined; onAbort: () => void }> = [];

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

  get queued(): number {
    return this.#waiting.length;
  }

  /** Waits for a slot; the returned function frees it (calling it twice is harmless). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
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
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.#waiting.push(entry);
    });
    return this.#releaser();
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
