import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** What one checkpoint did: SQLite's `wal_checkpoint` row (frames in the log, frames copied into the database). */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface WalCheckpointerOptions {
  /** How often the thread checkpoints; default 1,000 ms. */
  intervalMs?: number;
  /** Told when the thread failed; the connection is back on SQLite's own checkpoints from then on. */
  onFailure?: (error: Error) => void;
}

/**
 * The checkpointing thread's code. It runs as an eval'd CommonJS script, so that the same code serves the built
 * server and the TypeScript sources the tests run: it opens its own connection to the file and runs a PASSIVE
 * checkpoint (which never waits for the writer, and never makes the writer wait) on a timer and when asked.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const connection = new Database(workerData.file, { fileMustExist: true });
connection.pragma('busy_timeout = 5000');
// A checkpoint copies frames from the log to the file without the page cache: keep that cache small.
connection.pragma('cache_size = 16');
function checkpoint(id) {
  try {
    const row = connection.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ id, result: { busy: row.busy, log: row.log, checkpointed: row.checkpointed } });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
}
const timer = setInterval(() => checkpoint(0), workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message.close) {
    clearInterval(timer);
    connection.close();
    parentPort.close();
    return;
  }
  checkpoint(message.id);
});
`;

const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Moves a SQLite database's WAL checkpoints off the event loop. With SQLite's default, the commit that takes the
 * log past 1,000 pages copies them into the database file and syncs it, on the thread that committed: on a busy
 * gateway, the usage ledger's batch commit that does this held the event loop for 25–40 ms every second or two
 * (every request and stream in flight waited), against ~3 ms for the others. Here the connection stops
 * checkpointing on its own (`wal_autocheckpoint = 0`) and a thread with its own connection checkpoints every
 * `intervalMs`; a complete checkpoint lets the next commit start the log again from its beginning, so the file
 * stays bounded. If the thread fails, the connection goes back to SQLite's own checkpoints.
 */
export class WalCheckpointer {
  readonly #connection: SQLite.Database;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (result: CheckpointResult) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #closed = false;
  #failed = false;

  /**
   * @param connection the event loop's connection, in WAL mode, to an on-disk database
   * @param file that database's path
   */
  constructor(connection: SQLite.Database, file: string, options: WalCheckpointerOptions = {}) {
    this.#connection = connection;
    connection.pragma('wal_autocheckpoint = 0');
    this.#worker = new Worker(workerSource, {
      eval: true,
      workerData: { file, driver: driverPath, intervalMs: options.intervalMs ?? 1_000 },
      // None of the process's Node flags (a profiler, a loader of TypeScript): the script needs none of them.
      execArgv: [],
      // A script of a few lines: small heap limits keep the thread's resident memory small.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1, codeRangeSizeMb: 2, stackSizeMb: 1 },
    });
    // The thread never keeps the process alive; close() ends it.
    this.#worker.unref();
    this.#worker.on('message', (message: { id: number; result?: CheckpointResult; error?: string }) => {
      const waiting = this.#pending.get(message.id);
      if (waiting === undefined) return;
      this.#pending.delete(message.id);
      if (message.result !== undefined) waiting.resolve(message.result);
      else waiting.reject(new Error(`WAL checkpoint failed: ${message.error ?? 'unknown error'}`));
    });
    const fail = (cause: unknown): void => {
      if (this.#closed || this.#failed) return;
      // An error thrown on the thread arrives as a copy of its fields, without its class.
      const fields = cause as { message?: unknown; code?: unknown };
      const error = new Error(`the WAL checkpoint thread failed: ${String(fields.message || fields.code || cause)}`);
      this.#failed = true;
      // Without the thread, SQLite's own checkpoints keep the log from growing without bound.
      if (this.#connection.open) this.#connection.pragma('wal_autocheckpoint = 1000');
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
      options.onFailure?.(error);
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail({ message: `it exited (code ${code})` }));
  }

  /** False once the thread failed and the connection is back on SQLite's own checkpoints. */
  get active(): boolean {
    return !this.#failed && !this.#closed;
  }

  /** Runs a checkpoint now on the thread (tests; the timer does it otherwise). */
  checkpoint(): Promise<CheckpointResult> {
    if (!this.active) return Promise.reject(new Error('the WAL checkpoint thread is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id });
    });
  }

  /** Ends the thread; call before closing the connection (whose own close then checkpoints what is left). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#failed) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Referenced again until it has exited: with nothing else to do, the process would otherwise end before the
    // thread's exit reached it, leaving this promise, and whoever waits on it (a start-up closing its store), unsettled.
    this.#worker.ref();
    this.#worker.postMessage({ close: true });
    await exited;
    for (const waiting of this.#pending.values()) waiting.reject(new Error('the WAL checkpoint thread was closed'));
    this.#pending.clear();
  }
}
