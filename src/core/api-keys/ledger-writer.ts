import type { LedgerRow, UsageLedgerRepository } from '../../store/usage-ledger-repository.js';

/**
 * Buffers ledger rows and writes them in batches off the request path: every `intervalMs`, when `batchSize` rows
 * are waiting, and on close (so a graceful shutdown loses nothing). A failed write keeps its rows for the next try.
 */
export class LedgerWriter {
  #buffer: LedgerRow[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: UsageLedgerRepository,
    private readonly options: { intervalMs: number; batchSize: number; onError: (error: unknown) => void },
  ) {
    if (options.intervalMs > 0) {
      this.#timer = setInterval(() => void this.flush(), options.intervalMs);
      this.#timer.unref();
    }
  }

  get pending(): number {
    return this.#buffer.length;
  }

  append(row: LedgerRow): void {
    this.#buffer.push(row);
    if (this.#buffer.length >= this.options.batchSize) void this.flush();
  }

  /** Writes everything buffered so far; concurrent calls share one write. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === 0) return;
    const rows = this.#buffer;
    this.#buffer = [];
    this.#flushing = this.repository
      .insertBatch(rows)
      .catch((error: unknown) => {
        this.#buffer = rows.concat(this.#buffer);
        this.options.onError(error);
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
