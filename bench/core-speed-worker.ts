/**
 * The core speed probe: a process pinned to the gateway's core that, between a `start` and a `stop`, times a
 * fixed piece of gateway-like work (JSON in and out, a map, string building) every 100 ms, and answers `stop`
 * with the median CPU time it took and the CPU time the probe used in all.
 */
import { serveIpcRequests } from './lib/ipc-worker.js';
import { probeWork, type ProbeReply, type ProbeRequest } from './lib/core-speed.js';
import { median } from './lib/stats.js';

const intervalMs = 100;
let samples: number[] = [];
let started = process.cpuUsage();
let timer: NodeJS.Timeout | undefined;

function sample(): void {
  const before = process.cpuUsage();
  probeWork();
  const spent = process.cpuUsage(before);
  samples.push(spent.user + spent.system);
}

// Before the first measurement: V8 optimises the work, so that no sample times its unoptimised first runs.
for (let warmup = 0; warmup < 300; warmup += 1) probeWork();

serveIpcRequests('bench/core-speed-worker.ts', (request: ProbeRequest): ProbeReply => {
  clearInterval(timer);
  timer = undefined;
  if (request === 'start') {
    samples = [];
    started = process.cpuUsage();
    timer = setInterval(sample, intervalMs);
    return { workUs: 0, usedUs: 0 };
  }
  const used = process.cpuUsage(started);
  return { workUs: median(samples), usedUs: used.user + used.system };
});
