/**
 * A bench helper process that answers requests over IPC, one reply per request (the load generator, the core
 * speed probe): started pinned, ready once it says so, each call matched to its reply by id.
 */
import { spawnPinned, type SpawnedProcess } from './processes.js';

/** What a worker sends back: its `{ ready: true }` once, then one reply per request. */
export type WorkerReply<Result> = { id: number; result: Result } | { id: number; error: string };

export interface IpcWorker<Request, Result> {
  process: SpawnedProcess;
  call(request: Request): Promise<Result>;
  stop(): Promise<void>;
}

/**
 * Starts `script` (a TypeScript file run through tsx) pinned to `cores` and waits for its ready message. The
 * worker receives `{ id, request }` and answers with a {@link WorkerReply}.
 */
export async function startIpcWorker<Request, Result>(name: string, script: string, cores: string | undefined): Promise<IpcWorker<Request, Result>> {
  const worker = spawnPinned({ name, command: process.execPath, args: ['--import', import.meta.resolve('tsx'), script], cores, ipc: true });
  worker.child.stdout?.pipe(process.stdout);
  worker.child.stderr?.pipe(process.stderr);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} did not start`)), 30_000);
    worker.child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.child.once('exit', (code) => reject(new Error(`the ${name} exited with ${code}`)));
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (result: Result) => void; reject: (error: Error) => void }>();
  worker.child.on('message', (message: WorkerReply<Result>) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if ('error' in message) waiting.reject(new Error(message.error));
    else waiting.resolve(message.result);
  });
  void worker.exited.then((code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`the ${name} exited with ${code}`));
    pending.clear();
  });
  return {
    process: worker,
    call(request: Request): Promise<Result> {
      nextId += 1;
      const id = nextId;
      return new Promise<Result>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.child.send({ id, request });
      });
    },
    async stop() {
      if (worker.child.connected) worker.child.disconnect();
      await worker.stop('SIGTERM', 5_000);
    },
  };
}

/** The worker's side: answers each `{ id, request }` with `handle`'s result or error, and says it is ready. */
export function serveIpcRequests<Request, Result>(script: string, handle: (request: Request) => Promise<Result> | Result): void {
  if (!process.send) throw new Error(`${script} runs as a child of the bench (it needs an IPC channel)`);
  process.on('message', (message: { id: number; request: Request }) => {
    Promise.resolve()
      .then(() => handle(message.request))
      .then(
        (result) => process.send!({ id: message.id, result } satisfies WorkerReply<Result>),
        (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerReply<Result>),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}
