/** The bench's handle on the load-generator process (bench/load-worker.ts): start it pinned, send jobs, stop it. */
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult, WorkerMessage } from './load-jobs.js';
import { spawnPinned, type SpawnedProcess } from './processes.js';

export interface LoadGenerator {
  process: SpawnedProcess;
  run<T extends LoadResult>(job: LoadJob): Promise<T>;
  stop(): Promise<void>;
}

export async function startLoadGenerator(cores: string | undefined): Promise<LoadGenerator> {
  const script = fileURLToPath(new URL('../load-worker.ts', import.meta.url));
  const worker = spawnPinned({
    name: 'load generator',
    command: process.execPath,
    args: ['--import', import.meta.resolve('tsx'), script],
    cores,
    ipc: true,
  });
  worker.child.stdout?.pipe(process.stdout);
  worker.child.stderr?.pipe(process.stderr);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the load generator did not start')), 30_000);
    worker.child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.child.once('exit', (code) => reject(new Error(`the load generator exited with ${code}`)));
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (result: LoadResult) => void; reject: (error: Error) => void }>();
  worker.child.on('message', (message: WorkerMessage) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if ('error' in message) waiting.reject(new Error(message.error));
    else waiting.resolve(message.result);
  });
  void worker.exited.then((code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`the load generator exited with ${code}`));
    pending.clear();
  });
  return {
    process: worker,
    run<T extends LoadResult>(job: LoadJob): Promise<T> {
      nextId += 1;
      const id = nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (result: LoadResult) => void, reject });
        worker.child.send({ id, job });
      });
    },
    async stop() {
      if (worker.child.connected) worker.child.disconnect();
      await worker.stop('SIGTERM', 5_000);
    },
  };
}
