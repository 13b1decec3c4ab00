/**
 * What the stack costs without Tollgate: `node --import tsx bench/floor.ts [--seconds=S] [--runs=N] [--warmup=S] [--compare=DIR[,DIR…]] [--nice=N]
 * [--kind=chat|stream|prompt-10k|prompt-50k] [--one-connection | --rate=R [--burst=S]] [--log-level=L]`. Starts the mock
 * upstream, bench/floor/node-http-proxy.mjs (node:http on both sides, nothing else), bench/floor/fastify-undici-proxy.mjs
 * (Fastify + undici, nothing else) and Tollgate (`npm start`'s flags),
 * each gateway pinned alone to core 0, and drives each in turn at 32 connections with the same non-streamed
 * request, in rotation `--runs` times (3) after `--warmup` seconds (2) of each: requests/s and CPU µs per request of
 * each, so that Tollgate's own share of the CPU per request can be told from its framework's. `--compare=DIR` adds
 * a second Tollgate built in another checkout (e.g. `git worktree add /tmp/base HEAD~1 && (cd /tmp/base && npm ci
 * && npm run build)`), measured in the same rotation: an A/B of a change that machine noise would hide between runs.
 * Several directories, comma-separated, are each measured in the same rotation. `--kind=stream` sends streamed
 * requests (the floor proxies relay the stream's bytes whole); `--kind=prompt-10k|prompt-50k` the benchmark's large prompts
 * (non-streamed). `--one-connection` sends one request at a time instead
 * and reports each system's p50 latency beside the mock's own (direct), i.e. what the framework alone adds at one
 * connection against what Tollgate adds. `--rate=R` sends R requests/s (an open loop over 64 connections, as the
 * benchmark's fixed-rate scenario) and reports the p50, p99 and worst latency of each, for A/Bs of the tail; with
 * `--burst=S`, each of those measurements follows S seconds at 32 connections (unmeasured), which grows SQLite's
 * write-ahead log so that its checkpoints fall inside the measurement as they do in a long run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import type { LatencyResult, Target, ThroughputResult } from './lib/load-jobs.js';
import { freePort, sampleProcess, spawnPinned, waitForPort } from './lib/processes.js';
import { fixedRateJob, requestBody, type BodyKind } from './lib/scenarios.js';
import { median, percentileOfSorted, round } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

/** The request kinds every floor proxy can relay: bodies for the mock's chat completions path. */
const floorKinds = ['chat', 'stream', 'prompt-10k', 'prompt-50k'] as const satisfies readonly BodyKind[];

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const seconds = Number(flag('seconds', '5'));
  const runs = Number(flag('runs', '3'));
  const kind = floorKinds.find((name) => name === flag('kind', 'chat'));
  if (kind === undefined) throw new Error(`--kind must be one of ${floorKinds.join(', ')}`);
  const warmupSeconds = Number(flag('warmup', '2'));
  const oneConnection = process.argv.includes('--one-connection');
  const rate = Number(flag('rate', '0'));
  const burstSeconds = Number(flag('burst', '0'));
  const { gatewayCores, loadCores } = setUpTool();
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const load = await startLoadGenerator(loadCores);
  // The two floors: the thinnest Node HTTP proxy (issue 6's own floor) and Fastify + undici (Tollgate's stack).
  const startFloor = async (name: string, script: string) => {
    const port = await freePort();
    const spawned = spawnPinned({
      name,
      command: process.execPath,
      args: [fileURLToPath(new URL(`floor/${script}`, import.meta.url)), `--port=${port}`, `--upstream=${mock.url}`],
      cores: gatewayCores,
    });
    await waitForPort(port, 15_000, spawned);
    return { name, process: spawned, url: `http://127.0.0.1:${port}/v1/chat/completions` };
  };
  const floors = [await startFloor('node:http proxy', 'node-http-proxy.mjs'), await startFloor('fastify + undici', 'fastify-undici-proxy.mjs')];
  const tollgate = await startTollgate({ name: 'floor-tollgate', repositoryRoot, upstreamUrl: mock.url, cores: gatewayCores, logLevel: flag('log-level', 'info') });
  // Several checkouts, comma-separated, are measured in the same rotation (e.g. one per part switched off).
  const compareRoots = flag('compare', '').split(',').filter((root) => root !== '');
  const others: Array<{ root: string; running: typeof tollgate }> = [];
  for (const [index, root] of compareRoots.entries()) {
    const running = await startTollgate({ name: `floor-compare-${index}`, repositoryRoot: path.resolve(root), upstreamUrl: mock.url, cores: gatewayCores, logLevel: flag('log-level', 'info') });
    others.push({ root, running });
  }
  const tollgateTarget = (running: typeof tollgate): Target => ({
    url: `${running.url}/v1/chat/completions`,
    headers: { authorization: `Bearer ${running.apiKey}` },
    body: requestBody(kind, running.model),
  });
  const systems: Array<{ name: string; pid: number; target: Target }> = [
    ...floors.map((floor) => ({ name: floor.name, pid: floor.process.pid, target: { url: floor.url, headers: {}, body: requestBody(kind, 'gpt-4o-mini') } })),
    { name: 'tollgate', pid: tollgate.process.pid, target: tollgateTarget(tollgate) },
    ...others.map(({ root, running }) => ({ name: compareRoots.length === 1 ? 'tollgate (compare)' : path.basename(root), pid: running.process.pid, target: tollgateTarget(running) })),
  ];
  // Indexed by rotation (undefined where the process could not be sampled), so that systems pair up per rotation.
  if (oneConnection || rate > 0) systems.unshift({ name: 'direct', pid: mock.process.pid, target: { url: `${mock.url}/v1/chat/completions`, headers: {}, body: requestBody(kind, 'gpt-4o-mini') } });
  const results = new Map<string, { rates: number[]; cpu: Array<number | undefined>; p50: number[]; p99: number[]; max: number[] }>(
    systems.map((system) => [system.name, { rates: [], cpu: [], p50: [], p99: [], max: [] }]),
  );
  const throughput = (target: Target, durationS: number) => load.run<ThroughputResult>({ kind: 'throughput', target, connections: 32, durationS, loader: 'autocannon' });
  /** One measurement: requests/s and requests at 32 connections, or one at a time or at a fixed rate with latencies. */
  const measure = async (target: Target, durationS: number): Promise<{ requestsPerSecond: number; requests: number; latencyMs?: { p50: number; p99: number; max: number } }> => {
    if (!oneConnection && rate === 0) {
      const { requestsPerSecond, requests } = await throughput(target, durationS);
      return { requestsPerSecond, requests };
    }
    const result = await load.run<LatencyResult>(
      oneConnection ? { kind: 'latency', target, mode: 'sequential', durationS } : fixedRateJob(target, rate, durationS),
    );
    return { requestsPerSecond: result.requests / result.seconds, requests: result.requests, latencyMs: result.latencyMs };
  };
  try {
    for (const system of systems) await measure(system.target, warmupSeconds);
    for (let repetition = 0; repetition < runs; repetition += 1) {
      // Rotated, so that no system always runs right after the same other one.
      for (const system of [...systems.slice(repetition % systems.length), ...systems.slice(0, repetition % systems.length)]) {
        if (burstSeconds > 0) await throughput(system.target, burstSeconds);
        const before = sampleProcess(system.pid);
        const result = await measure(system.target, seconds);
        const after = sampleProcess(system.pid);
        const entry = results.get(system.name)!;
        entry.rates.push(result.requestsPerSecond);
        if (result.latencyMs) {
          entry.p50.push(result.latencyMs.p50);
          entry.p99.push(result.latencyMs.p99);
          entry.max.push(result.latencyMs.max);
        }
        entry.cpu[repetition] = before && after ? ((after.cpuMs - before.cpuMs) / result.requests) * 1000 : undefined;
      }
    }
  } finally {
    await load.stop();
    for (const floor of floors) await floor.process.stop();
    await tollgate.stop();
    removeTollgateData(tollgate);
    for (const { running } of others) {
      await running.stop();
      removeTollgateData(running);
    }
    await mock.process.stop();
  }
  const reference = results.get('tollgate')!.cpu;
  for (const [name, entry] of results) {
    const cpu = entry.cpu.filter((value): value is number => value !== undefined);
    const tail = rate > 0 ? `, p99 ${round(median(entry.p99), 2)} ms (runs: ${entry.p99.map((value) => round(value, 2)).join(', ')}), worst ${round(Math.max(...entry.max), 1)} ms` : '';
    const latency = entry.p50.length > 0 ? `  p50 ${round(median(entry.p50), 3)} ms${tail}` : '';
    process.stdout.write(`${name.padEnd(24)} ${String(round(median(entry.rates), 0)).padStart(6)} req/s${latency}  ${String(round(median(cpu), 0)).padStart(5)} µs CPU per request (runs: ${cpu.map((value) => round(value, 0)).join(', ')})\n`);
  }
  // The machine's noise comes in bursts of seconds that move every system measured meanwhile: a system's CPU per
  // request divided by Tollgate's in the same rotation cancels much of it, and the median of those ratios compares
  // builds more finely than the medians above (many short rotations, e.g. --seconds=1 --runs=40, help most).
  for (const [name, entry] of results) {
    if (name === 'tollgate') continue;
    const ratios = entry.cpu.flatMap((value, rotation) => (value !== undefined && reference[rotation] !== undefined ? [value / reference[rotation]!] : []));
    if (ratios.length === 0) continue;
    const sorted = [...ratios].sort((a, b) => a - b);
    const quartile = (percent: number) => round(percentileOfSorted(sorted, percent), 3);
    process.stdout.write(`${name.padEnd(24)} ÷ tollgate in the same rotation: median ${round(median(ratios), 3)} (middle half ${quartile(25)}–${quartile(75)}, ${ratios.length} rotations)\n`);
  }
}

await main();
