/**
 * Preloaded into a gateway under test by bench/loop-stalls.ts (`node --import …/loop-stall-probe.mjs`): notes each
 * time the event loop was held up for more than 5 ms (a 2 ms timer that fired late) and each garbage-collection pause
 * of the event loop's thread, so that a stall can be told apart from a pause of the collector's own. On SIGUSR2 it
 * writes what it saw since the last SIGUSR2 to the file named by LOOP_STALL_PROBE_FILE (JSON), and starts again.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const output = process.env.LOOP_STALL_PROBE_FILE;
const intervalMs = 2;
const stallMs = 5;
/** Since the last dump: [start, duration] in ms of the performance clock. */
let pauses = [];
let stalls = [];
let since = performance.now();

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) pauses.push([entry.startTime, entry.duration]);
}).observe({ entryTypes: ['gc'] });

let expected = performance.now() + intervalMs;
setInterval(() => {
  const now = performance.now();
  // A timer fires late when the loop was busy (or its thread not scheduled) when it was due.
  if (now - expected > stallMs) stalls.push([expected, now - expected]);
  expected = now + intervalMs;
}, intervalMs).unref();

process.on('SIGUSR2', () => {
  const now = performance.now();
  const overlapsPause = ([start, duration]) => pauses.some(([pauseStart, pauseDuration]) => pauseStart < start + duration && pauseStart + pauseDuration > start);
  const summary = {
    windowMs: now - since,
    stalls: stalls.length,
    stallMs: stalls.reduce((sum, [, duration]) => sum + duration, 0),
    longestStallMs: stalls.reduce((longest, [, duration]) => Math.max(longest, duration), 0),
    stallsWithoutPause: stalls.filter((stall) => !overlapsPause(stall)).length,
    stallMsWithoutPause: stalls.filter((stall) => !overlapsPause(stall)).reduce((sum, [, duration]) => sum + duration, 0),
    pauses: pauses.length,
    pauseMs: pauses.reduce((sum, [, duration]) => sum + duration, 0),
    longestPauseMs: pauses.reduce((longest, [, duration]) => Math.max(longest, duration), 0),
  };
  if (output) writeFileSync(output, JSON.stringify(summary));
  pauses = [];
  stalls = [];
  since = now;
});
