/**
 * The core speed probe: a process pinned to the gateway's core that, on request, does a fixed amount of
 * gateway-like work (JSON in and out, a map, string building) and answers with the CPU time it took, the best
 * of a few trials. Run between measurements, never during one.
 */
import { serveIpcRequests } from './lib/ipc-worker.js';
import { probeWork } from './lib/core-speed.js';

serveIpcRequests('bench/core-speed-worker.ts', () => {
  let best = Number.POSITIVE_INFINITY;
  for (let trial = 0; trial < 5; trial += 1) {
    const before = process.cpuUsage();
    probeWork();
    const spent = process.cpuUsage(before);
    best = Math.min(best, spent.user + spent.system);
  }
  return best;
});
