/**
 * The load generator: a separate process (pinned by the bench next to the mock, away from the gateway's core)
 * that runs one job at a time on request over IPC and answers with its result.
 */
import { runLatency, runStream } from './lib/latency-client.js';
import type { LoadJob, LoadResult, WorkerMessage } from './lib/load-jobs.js';
import { runThroughput } from './lib/throughput-client.js';

function run(job: LoadJob): Promise<LoadResult> {
  switch (job.kind) {
    case 'throughput':
      return runThroughput(job);
    case 'latency':
      return runLatency(job);
    case 'stream':
      return runStream(job);
  }
}

if (!process.send) throw new Error('bench/load-worker.ts runs as a child of bench/run.ts (it needs an IPC channel)');

process.on('message', (message: { id: number; job: LoadJob }) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, result } satisfies WorkerMessage),
    (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerMessage),
  );
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
