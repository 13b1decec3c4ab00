/**
 * Compares V8 flags for Tollgate's process: `node --import tsx bench/node-flags.ts [--requests=N] [--nice=N]
 * [--sets="a b;c"]` (after `npm run build`). For each flag set (separated by `;`; `npm start`'s own flags are left
 * out, so the empty set is V8's defaults), starts a fresh Tollgate pinned like the bench, sends N non-streamed requests at 32
 * connections in five blocks, and prints CPU µs per request and RSS after each block: what a flag costs in CPU
 * against what it saves in memory.
 */
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import type { ThroughputResult } from './lib/load-jobs.js';
import { sampleProcess } from './lib/processes.js';
import { requestBody } from './lib/scenarios.js';
import { round } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const requests = Number(flag('requests', '50000'));
  const sets = flag('sets', ';--max-semi-space-size=4;--max-semi-space-size=8').split(';').map((set) => set.trim().split(/\s+/).filter(Boolean));
  const { gatewayCores, loadCores } = setUpTool();
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const load = await startLoadGenerator(loadCores);
  try {
    for (const nodeArguments of sets) {
      const tollgate = await startTollgate({ name: 'flags', repositoryRoot, upstreamUrl: mock.url, cores: gatewayCores, nodeArguments, useStartFlags: false });
      const target = { url: `${tollgate.url}/v1/chat/completions`, headers: { authorization: `Bearer ${tollgate.apiKey}` }, body: requestBody('chat', tollgate.model) };
      const blocks: string[] = [];
      for (let block = 0; block < 5; block += 1) {
        const before = sampleProcess(tollgate.process.pid);
        const result = await load.run<ThroughputResult>({ kind: 'throughput', target, connections: 32, amount: Math.round(requests / 5), loader: 'autocannon' });
        const after = sampleProcess(tollgate.process.pid);
        const cpu = before && after ? round(((after.cpuMs - before.cpuMs) / result.requests) * 1000, 0) : Number.NaN;
        blocks.push(`${round(result.requestsPerSecond, 0)} req/s ${cpu} µs ${round((after?.rssBytes ?? 0) / 1e6, 1)} MB`);
      }
      process.stdout.write(`${nodeArguments.join(' ') || '(defaults)'}\n  ${blocks.join('\n  ')}\n`);
      await tollgate.stop();
      removeTollgateData(tollgate);
    }
  } finally {
    await load.stop();
    await mock.process.stop();
  }
}

await main();
