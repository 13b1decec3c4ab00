/** The bench's handle on the load-generator process (bench/load-worker.ts): start it pinned, send jobs, stop it. */
import { fileURLToPath } from 'node:url';
import { startIpcWorker } from './ipc-worker.js';
import type { LoadJob, LoadResult } from './load-jobs.js';
import type { SpawnedProcess } from './processes.js';

export interface LoadGenerator {
  process: SpawnedProcess;
  run<T extends LoadResult>(job: LoadJob): Promise<T>;
  stop(): Promise<void>;
}

export async function startLoadGenerator(cores: string | undefined): Promise<LoadGenerator> {
  const worker = await startIpcWorker<LoadJob, LoadResult>('load generator', fileURLToPath(new URL('../load-worker.ts', import.meta.url)), cores);
  return {
    process: worker.process,
    run: <T extends LoadResult>(job: LoadJob) => worker.call(job) as Promise<T>,
    stop: () => worker.stop(),
  };
}
