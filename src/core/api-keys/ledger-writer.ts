import { isRowRefusal, type LedgerRow, type UsageLedgerRepository } from '../../store/usage-ledger-repository.js';

export interface LedgerWriterOptions {
  intervalMs: number;
  batchSize: number;
  /** Told of a write that failed; its rows are kept for the next try. */
  onError: (error: unknown) => void;
  /** Told of a row the store refused on its own (see `flush`); the row is not tried again. */
  onRowRefused: (row: LedgerRow, error: unknown) => void;
}

/**
 * Buffers ledger rows and writes them in batches off the request path: every `intervalMs`, when `batchSize` rows
 * are waiting, and on close (so a graceful shutdown loses nothing). A failed write keeps its rows for the next try.
 */
export class LedgerWriter {
  #buffer: LedgerRow[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: Pick<UsageLedgerRepository, 'insertBatch'>,
    private readonly options: LedgerWriterOptions,
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

  /**
   * Writes everything buffered so far; concurrent calls share one write. When the store refuses a batch for what a
   * row holds (`isRowRefusal`), the rows are written one by one and only the ones refused on their own are set aside
   * (`onRowRefused`): kept, such a row would fail its batch, and every batch behind it, on every try, and the ledger
   * would stop recording anything. Any other failure (the store unreachable) keeps every row not yet written.
   */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === 0) return;
    const rows = this.#buffer;
    this.#buffer = [];
    this.#flushing = this.#write(rows).finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }

  async #write(rows: LedgerRow[]): Promise<void> {
    try {
      await this.repository.insertBatch(rows);
      return;
    } catch (error) {
      if (!isRowRefusal(error)) return this.#keep(rows, error);
    }
    for (let index = 0; index < rows.length; index += 1) {
      const row = rows[index]!;
      try {
        await this.repository.insertBatch([row]);
      } catch (error) {
        if (!isRowRefusal(error)) return this.#keep(rows.slice(index), error);
        this.options.onRowRefused(row, error);
      }
    }
  }

  #keep(rows: LedgerRow[], error: unknown): void {
    this.#buffer = rows.concat(this.#buffer);
    this.options.onError(error);
  }
}
