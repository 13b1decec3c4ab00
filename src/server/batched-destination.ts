import type { DestinationStream } from 'pino';

/** What a batched destination writes to: pino's own destination (sonic-boom), or anything with the same methods. */
export interface BatchTarget {
  write(text: string): unknown;
  flush?(callback?: (error?: Error | null) => void): unknown;
  flushSync?(): unknown;
  end?(): unknown;
}

/** Options of {@link BatchedDestination}. */
export interface BatchedDestinationOptions {
  /** Lines are handed on once this many characters are waiting. */
  batchLength: number;
  /** Waiting lines are handed on at least this often (ms), however few they are. */
  flushMs: number;
}

/** The destinations whose waiting lines must be handed on before the process exits. */
const live = new Set<BatchedDestination>();

// Ahead of pino's own 'exit' listener, which writes what its destination holds: what waits here is handed on first.
process.prependListener('exit', () => {
  for (const destination of live) destination.handOn();
});

/**
 * Gathers log lines in an array and hands them to the target as one string per batch. sonic-boom can gather lines
 * itself (`minLength`), but it measures the byte length of the whole gathered string on every write, which makes V8
 * flatten it first: with 32 KB batches that cost ~4 µs per line, about as much as everything else the request line
 * costs (measured on Node 20 with sonic-boom 4.2 and 5.0). Joining an array once per batch costs ~0.7 µs per line.
 * The target does the writing (asynchronously, on libuv's thread pool), its error handling and its flushing at
 * exit; lines still waiting here are handed to it first, both on `flush`/`flushSync`/`end` and when the process
 * exits (an 'exit' listener placed ahead of pino's own).
 */
export class BatchedDestination implements DestinationStream {
  #lines: string[] = [];
  #length = 0;
  #ended = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly target: BatchTarget,
    private readonly options: BatchedDestinationOptions,
  ) {
    this.#timer = setInterval(() => this.handOn(), options.flushMs);
    this.#timer.unref();
    live.add(this);
  }

  /** Adds a line (or several, newline-terminated) to the batch. */
  write(line: string): boolean {
    if (this.#ended) return false;
    this.#lines.push(line);
    this.#length += line.length;
    if (this.#length >= this.options.batchLength) this.handOn();
    return true;
  }

  /** Hands the waiting lines to the target now, as one string. */
  handOn(): void {
    const lines = this.#lines;
    if (lines.length === 0) return;
    this.#lines = [];
    this.#length = 0;
    this.target.write(lines.length === 1 ? lines[0]! : lines.join(''));
  }

  /** Hands on the waiting lines and lets the target write them (pino's `logger.flush` calls this). */
  flush(callback?: (error?: Error | null) => void): void {
    this.handOn();
    if (this.target.flush) this.target.flush(callback);
    else callback?.();
  }

  /** Hands on the waiting lines and has the target write them before returning. */
  flushSync(): void {
    this.handOn();
    this.target.flushSync?.();
  }

  /** Hands on the waiting lines and ends the target; later lines go nowhere. */
  end(): void {
    this.handOn();
    this.#ended = true;
    clearInterval(this.#timer);
    live.delete(this);
    this.target.end?.();
  }
}
