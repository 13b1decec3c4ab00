/**
 * The load generator: a separate process (pinned by the bench next to the mock, away from the gateway's core)
 * that runs one job at a time on request over IPC and answers with its result.
 */
import { serveIpcRequests } from './lib/ipc-worker.js';
import { runLatency, runStream } from './lib/latency-client.js';
import type { LoadJob, LoadResult } from './lib/load-jobs.js';
import { runOpenStreams } from './lib/open-streams-client.js';
import { runThroughput } from './lib/throughput-client.js';

function run(job: LoadJob): Promise<LoadResult> {
  switch (job.kind) {
    case 'throughput':
      return runThroughput(job);
    case 'latency':
      return runLatency(job);
    case 'stream':
      return runStream(job);
    case 'open-streams':
      return runOpenStreams(job);
  }
}

serveIpcRequests('bench/load-worker.ts', run);
