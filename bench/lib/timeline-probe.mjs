/**
 * Preloaded into a gateway under test by bench/timeline.ts (`node --import …/timeline-probe.mjs`): times each request's
 * phases from Node's and undici's diagnostics channels, which need no change to the gateway's code. For one request at
 * a time only (a second request arriving before the first finished would mix their marks). On SIGUSR2 it writes the
 * median of each phase over the requests since the last SIGUSR2 to the file named by TIMELINE_PROBE_FILE (JSON), and
 * starts counting again.
 */
import diagnostics from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

const output = process.env.TIMELINE_PROBE_FILE;
const now = () => Number(process.hrtime.bigint()) / 1000;
/** The marks of the request under way, in microseconds. */
let current;
const finished = [];

diagnostics.subscribe('http.server.request.start', () => {
  current = { arrive: now() };
});
diagnostics.subscribe('undici:client:sendHeaders', () => {
  const marks = current;
  if (marks === undefined) return;
  // Published just before undici writes the request: the microtask runs once the write's system call returned, the
  // immediate once the event loop has nothing left to do but wait.
  marks.send = now();
  queueMicrotask(() => {
    marks.written = now();
  });
  setImmediate(() => {
    marks.idle = now();
  });
});
diagnostics.subscribe('undici:request:headers', () => {
  if (current !== undefined) current.upstreamHeaders = now();
});
diagnostics.subscribe('undici:request:trailers', () => {
  if (current !== undefined) current.upstreamEnd = now();
});
diagnostics.subscribe('http.server.response.finish', () => {
  if (current === undefined) return;
  current.finish = now();
  finished.push(current);
  current = undefined;
});

/** The phases, each from one mark to the next. */
const phases = [
  ['arrive', 'send', 'request in, until the upstream request is written'],
  ['send', 'written', 'writing the upstream request (the system call)'],
  ['written', 'idle', 'the rest of that turn of the event loop'],
  ['idle', 'upstreamHeaders', "waiting for the upstream's reply headers"],
  ['upstreamHeaders', 'upstreamEnd', "the upstream's reply body"],
  ['upstreamEnd', 'finish', 'the reply out to the client'],
  ['arrive', 'finish', 'in all'],
];

function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  return sorted.length === 0 ? null : Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
}

process.on('SIGUSR2', () => {
  const summary = {
    requests: finished.length,
    phases: phases.map(([from, to, label]) => ({ from, to, label, medianUs: median(finished.map((marks) => marks[to] - marks[from])) })),
  };
  if (output) writeFileSync(output, `${JSON.stringify(summary)}\n`);
  finished.length = 0;
});
