/**
 * What the stack costs without Tollgate: `node --import tsx bench/floor.ts [--seconds=S] [--nice=N] [--log-level=L]`. Starts the mock
 * upstream, bench/floor/fastify-undici-proxy.mjs (Fastify + undici, nothing else) and Tollgate (`npm start`'s flags),
 * each gateway pinned alone to core 0, and drives each in turn at 32 connections with the same non-streamed
 * request, alternating three times: requests/s and CPU µs per request of each, so that Tollgate's own share of
 * the CPU per request can be told from its framework's.
 */
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import type { Target, ThroughputResult } from './lib/load-jobs.js';
import { freePort, sampleProcess, spawnPinned, waitForPort } from './lib/processes.js';
import { requestBody } from './lib/scenarios.js';
import { median, round } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const seconds = Number(flag('seconds', '5'));
  const { gatewayCores, loadCores } = setUpTool();
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const load = await startLoadGenerator(loadCores);
  const port = await freePort();
  const floor = spawnPinned({
    name: 'floor proxy',
    command: process.execPath,
    args: [fileURLToPath(new URL('floor/fastify-undici-proxy.mjs', import.meta.url)), `--port=${port}`, `--upstream=${mock.url}`],
    cores: gatewayCores,
  });
  await waitForPort(port, 15_000, floor);
  const tollgate = await startTollgate({ name: 'floor-tollgate', repositoryRoot, upstreamUrl: mock.url, cores: gatewayCores, logLevel: flag('log-level', 'info') });
  const systems: Array<{ name: string; pid: number; target: Target }> = [
    { name: 'fastify + undici', pid: floor.pid, target: { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: {}, body: requestBody('chat', 'gpt-4o-mini') } },
    { name: 'tollgate', pid: tollgate.process.pid, target: { url: `${tollgate.url}/v1/chat/completions`, headers: { authorization: `Bearer ${tollgate.apiKey}` }, body: requestBody('chat', tollgate.model) } },
  ];
  const results = new Map<string, { rates: number[]; cpu: number[] }>(systems.map((system) => [system.name, { rates: [], cpu: [] }]));
  try {
    for (const system of systems) await load.run({ kind: 'throughput', target: system.target, connections: 32, durationS: 2, loader: 'autocannon' });
    for (let repetition = 0; repetition < 3; repetition += 1) {
      for (const system of repetition % 2 === 0 ? systems : [...systems].reverse()) {
        const before = sampleProcess(system.pid);
        const result = await load.run<ThroughputResult>({ kind: 'throughput', target: system.target, connections: 32, durationS: seconds, loader: 'autocannon' });
        const after = sampleProcess(system.pid);
        const entry = results.get(system.name)!;
        entry.rates.push(result.requestsPerSecond);
        if (before && after) entry.cpu.push(((after.cpuMs - before.cpuMs) / result.requests) * 1000);
      }
    }
  } finally {
    await load.stop();
    await floor.stop();
    await tollgate.stop();
    removeTollgateData(tollgate);
    await mock.process.stop();
  }
  for (const [name, entry] of results) {
    process.stdout.write(`${name.padEnd(18)} ${String(round(median(entry.rates), 0)).padStart(6)} req/s  ${String(round(median(entry.cpu), 0)).padStart(5)} µs CPU per request (runs: ${entry.cpu.map((value) => round(value, 0)).join(', ')})\n`);
  }
}

await main();
