import { Worker } from 'node:worker_threads';
import type { SqliteWrite } from './sqlite-writes.js';
import type { WriteWorkerData, WriteWorkerReply, WriteWorkerRequest } from './sqlite-write-worker.js';

export interface SqliteWriteThreadOptions {
  /** The database file; the worker opens its own connection to it (the file must exist, in WAL mode). */
  file: string;
  busyTimeoutMs: number;
  /** Told when the worker stops; the caller then writes on its own connection again. */
  onError: (error: unknown) => void;
  /** The worker's module (tests give one that does not exist). */
  workerUrl?: URL;
}

/**
 * Runs {@link SqliteWrite}s on a worker thread with a connection of its own. On a VM's disk, a commit that crossed
 * SQLite's checkpoint threshold spent 2–25 ms in fsyncs, and while any thread's checkpoint fsynced, the log appends
 * of other commits waited on the filesystem too: on the event loop, every request in flight waited with them
 * (most of the p99 at 200 requests/s). Here the event loop never touches the file for a request; it only posts the
 * rows. Each write resolves once committed (visible to the process's own connection), or rejects with the reason.
 * Once the worker has stopped, `failed` is true and every write rejects; the caller writes on its own connection.
 */
export class SqliteWriteThread {
  readonly #worker: Worker;
  readonly #onError: (error: unknown) => void;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #closing = false;
  #failed = false;

  constructor(options: SqliteWriteThreadOptions) {
    this.#onError = options.onError;
    const workerData: WriteWorkerData = { file: options.file, busyTimeoutMs: options.busyTimeoutMs };
    // Built, the worker is the .js beside this module; under the test runner, the TypeScript source.
    const source = import.meta.url.endsWith('.ts') ? './sqlite-write-worker.ts' : './sqlite-write-worker.js';
    this.#worker = startWorker(options.workerUrl ?? new URL(source, import.meta.url), workerData);
    // A helper thread must never keep the process alive.
    this.#worker.unref();
    this.#worker.on('message', (reply: WriteWorkerReply) => this.#receive(reply));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`the SQLite write worker stopped (exit code ${code})`));
    });
  }

  /** Whether the worker has stopped without being closed. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Whether writes go to the worker (neither failed nor closing). */
  get running(): boolean {
    return !this.#failed && !this.#closing;
  }

  /** Runs one write in one transaction on the worker; resolves once it is committed. */
  run(write: SqliteWrite): Promise<void> {
    if (!this.running) return Promise.reject(new Error('the SQLite write worker is not running'));
    this.#nextId += 1;
    const id = this.#nextId;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ kind: 'write', id, write } satisfies WriteWorkerRequest);
    });
  }

  /** Waits for the writes already sent, then stops the worker (its connection closes). */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#failed) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Messages are handled in order: every write sent before this one is answered first.
    this.#worker.postMessage({ kind: 'close' } satisfies WriteWorkerRequest);
    await exited;
    this.#rejectWaiting('the SQLite write worker stopped');
  }

  #receive(reply: WriteWorkerReply): void {
    const waiting = this.#waiting.get(reply.id);
    this.#waiting.delete(reply.id);
    if (reply.kind === 'written') waiting?.resolve();
    else waiting?.reject(new Error(`SQLite write failed: ${reply.message}`));
  }

  #rejectWaiting(message: string): void {
    for (const waiting of this.#waiting.values()) waiting.reject(new Error(message));
    this.#waiting.clear();
  }

  #fail(error: unknown): void {
    if (this.#failed || this.#closing) return;
    this.#failed = true;
    this.#rejectWaiting('the SQLite write worker stopped');
    this.#onError(error);
  }
}

/**
 * Starts the worker thread with a small young generation: it holds one batch of rows at a time, and V8's default
 * semi-spaces would add megabytes of resident memory for nothing. A TypeScript module (under the test runner) gets
 * tsx's loader registered first.
 */
function startWorker(url: URL, workerData: WriteWorkerData): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: 1 };
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData, resourceLimits });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
}
