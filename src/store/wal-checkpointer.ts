import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import type { CheckpointerData, CheckpointerReply, CheckpointerRequest, CheckpointState } from './wal-checkpoint-worker.js';

export type { CheckpointState };

/** SQLite's own default: a commit that takes the log past this many frames checkpoints it. */
const defaultAutocheckpointFrames = 1000;

export interface WalCheckpointerOptions {
  /** The database file (its `-wal` log beside it). */
  file: string;
  /** The process's connection: its own checkpoints are turned off while the worker runs, and back on if it stops. */
  connection: SQLite.Database;
  /** How often the worker looks at the log (default 100 ms: a log that grows fast is copied in small steps). */
  intervalMs?: number;
  /** Frames waiting in the log that make the worker checkpoint (default SQLite's 1000, ~4 MB). */
  thresholdFrames?: number;
  /** Told when a checkpoint fails or the worker stops; checkpoints are then the connection's own again. */
  onError: (error: unknown) => void;
  /** The worker's module (tests give one that does not exist). */
  workerUrl?: URL;
}

/**
 * Checkpoints a SQLite write-ahead log from a worker thread instead of in the commit that crosses SQLite's
 * threshold. A checkpoint ends in two fsyncs, which on a VM's disk took 2–25 ms; on the event loop, every
 * request in flight waited for them, and at 200 requests/s they made most of the p99 (2.3 against 1.5 ms
 * without checkpoints, 26 against 6 ms at most). The worker's passive checkpoint never takes the writer's lock,
 * so the process's commits never wait for it; SQLite restarts the log once a checkpoint has copied all of it.
 * Should the worker fail, the connection takes its checkpoints back, so the log never grows without bound.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #connection: SQLite.Database;
  readonly #onError: (error: unknown) => void;
  readonly #waiting = new Map<number, { resolve: (state: CheckpointState) => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #closing = false;
  #failed = false;

  constructor(options: WalCheckpointerOptions) {
    this.#connection = options.connection;
    this.#onError = options.onError;
    this.#connection.pragma('wal_autocheckpoint = 0');
    const workerData: CheckpointerData = {
      file: options.file,
      intervalMs: options.intervalMs ?? 100,
      thresholdFrames: options.thresholdFrames ?? defaultAutocheckpointFrames,
    };
    // Built, the worker is the .js beside this module; under the test runner, the TypeScript source.
    const source = import.meta.url.endsWith('.ts') ? './wal-checkpoint-worker.ts' : './wal-checkpoint-worker.js';
    this.#worker = startWorker(options.workerUrl ?? new URL(source, import.meta.url), workerData);
    // A helper thread must never keep the process alive.
    this.#worker.unref();
    this.#worker.on('message', (reply: CheckpointerReply) => this.#receive(reply));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`the WAL checkpoint worker stopped (exit code ${code})`));
    });
  }

  /** Whether the worker failed and the connection checkpoints on its own again. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Checkpoints now, whatever the log holds (passive: what the writer has not yet committed waits). */
  checkpoint(): Promise<CheckpointState> {
    if (this.#failed || this.#closing) return Promise.reject(new Error('the WAL checkpoint worker is not running'));
    this.#nextId += 1;
    const id = this.#nextId;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ kind: 'checkpoint', id } satisfies CheckpointerRequest);
    });
  }

  /**
   * Stops the worker and gives the connection its own checkpoints back (it checkpoints what is left when it
   * closes, as the last connection to the file).
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#failed) {
      const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
      this.#worker.postMessage({ kind: 'close' } satisfies CheckpointerRequest);
      await exited;
    }
    this.#restoreOwnCheckpoints();
  }

  #restoreOwnCheckpoints(): void {
    if (this.#connection.open) this.#connection.pragma(`wal_autocheckpoint = ${defaultAutocheckpointFrames}`);
  }

  #receive(reply: CheckpointerReply): void {
    const waiting = reply.id === undefined ? undefined : this.#waiting.get(reply.id);
    if (reply.id !== undefined) this.#waiting.delete(reply.id);
    if (reply.kind === 'checkpointed') {
      waiting?.resolve(reply.state);
      return;
    }
    const error = new Error(`WAL checkpoint failed: ${reply.message}`);
    if (waiting) waiting.reject(error);
    else this.#onError(error);
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#restoreOwnCheckpoints();
    for (const waiting of this.#waiting.values()) waiting.reject(new Error('the WAL checkpoint worker stopped'));
    this.#waiting.clear();
    this.#onError(error);
  }
}

/** Starts the worker thread; a TypeScript module (under the test runner) gets tsx's loader registered first. */
function startWorker(url: URL, workerData: CheckpointerData): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
