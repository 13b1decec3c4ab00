/** Closed-loop load at fixed concurrency through autocannon (always available) or wrk (when installed). */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { ThroughputJob, ThroughputResult } from './load-jobs.js';

/** True when a `wrk` binary is on the PATH. */
export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits with 1 after printing its version.
    return (error as { status?: number }).status === 1;
  }
}

async function runAutocannon(job: ThroughputJob): Promise<ThroughputResult> {
  const result = await autocannon({
    url: job.target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...job.target.headers },
    body: job.target.body,
    connections: job.connections,
    ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.durationS ?? 5 }),
    timeout: 30,
  });
  const ok = result['2xx'];
  return {
    kind: 'throughput',
    loader: 'autocannon',
    requests: ok + result.non2xx,
    seconds: result.duration,
    requestsPerSecond: ok / result.duration,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function wrkLatency(output: string, label: string): number {
  const match = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
  return match ? Number(match[1]) * (units[match[2]!] ?? 1) : Number.NaN;
}

/** A Lua long string that cannot be closed by the body's own text. */
function luaString(text: string): string {
  let level = 1;
  while (text.includes(`]${'='.repeat(level)}]`)) level += 1;
  const equals = '='.repeat(level);
  return `[${equals}[${text}]${equals}]`;
}

async function runWrk(job: ThroughputJob): Promise<ThroughputResult> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-wrk-'));
  const script = path.join(directory, 'request.lua');
  const headers = { 'content-type': 'application/json', ...job.target.headers };
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = ${luaString(job.target.body)}`,
      ...Object.entries(headers).map(([name, value]) => `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`),
      '',
    ].join('\n'),
  );
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'wrk',
        // wrk takes whole seconds only.
        ['-t1', `-c${job.connections}`, `-d${Math.max(1, Math.round(job.durationS ?? 5))}s`, '--latency', '--timeout', '30s', '-s', script, job.target.url],
        { maxBuffer: 1024 * 1024 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
    if (!total) throw new Error(`could not read wrk's output:\n${output}`);
    const requests = Number(total[1]);
    const seconds = (Number(total[2]) * (units[total[3]!] ?? 1)) / 1000;
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    const socketErrors = socket ? socket.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0;
    return {
      kind: 'throughput',
      loader: 'wrk',
      requests,
      seconds,
      requestsPerSecond: (requests - non2xx) / seconds,
      latencyMs: { p50: wrkLatency(output, '50'), p99: wrkLatency(output, '99') },
      failures: non2xx + socketErrors,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Runs a throughput job; a fixed `amount` always goes through autocannon (wrk runs for a duration only). */
export function runThroughput(job: ThroughputJob): Promise<ThroughputResult> {
  return job.loader === 'wrk' && job.amount === undefined ? runWrk(job) : runAutocannon(job);
}
