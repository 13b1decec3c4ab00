/**
 * Where Tollgate's garbage is made: `node --import tsx bench/allocation-sites.ts [--kind=chat|stream|prompt-10k|
 * prompt-50k|messages|messages-stream] [--seconds=S] [--top=N] [--nice=N]` (after `npm run build`). Starts Tollgate
 * pinned like in the bench with bench/lib/heap-sampling-probe.mjs preloaded, drives it at 32 connections with the
 * bench's request of that kind, and samples what it allocates during `--seconds` (5) after 3 s of warm-up: V8's
 * sampling heap profiler, with the samples of objects already collected kept. Prints the `--top` (30) allocating
 * functions by bytes allocated per request in the function itself (not in what it calls), and the total, which
 * bench/allocation.ts measures exactly from the collector's own counts (the sampled total is an estimate within a
 * few per cent). Writes the table to bench/results/<time>-allocation-sites.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import type { ThroughputResult } from './lib/load-jobs.js';
import { dumpProbe } from './lib/probe-dump.js';
import { writeResultFile } from './lib/result-file.js';
import { pathFor, requestBody, type BodyKind } from './lib/scenarios.js';
import { formatNumber } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const probe = fileURLToPath(new URL('lib/heap-sampling-probe.mjs', import.meta.url));

/** A node of the profile V8's sampling heap profiler answers (`HeapProfiler.SamplingHeapProfileNode`). */
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** A function as the table names it: its name, and its file relative to dist/ or node_modules/, with its line. */
function siteOf(node: ProfileNode): string {
  const frame = node.callFrame;
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file === '' ? '(code without a script: eval, new Function)' : `${file}:${frame.lineNumber + 1}`}`;
}

/** Bytes allocated in each function itself, summed over every stack it appears at the top of. */
function selfBytesBySite(root: ProfileNode): Map<string, number> {
  const bytes = new Map<string, number>();
  const pending = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.selfSize > 0) bytes.set(siteOf(node), (bytes.get(siteOf(node)) ?? 0) + node.selfSize);
    pending.push(...node.children);
  }
  return bytes;
}

async function main(): Promise<void> {
  const seconds = Number(flag('seconds', '5'));
  const top = Number(flag('top', '30'));
  const kind = flag('kind', 'chat') as BodyKind;
  const kinds = ['chat', 'stream', 'prompt-10k', 'prompt-50k', 'messages', 'messages-stream'];
  if (!kinds.includes(kind)) throw new Error(`--kind takes ${kinds.join(', ')}`);
  const { gatewayCores, loadCores } = setUpTool();
  const probeDirectory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-allocation-sites-'));
  const probeFile = path.join(probeDirectory, 'profile.json');
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const load = await startLoadGenerator(loadCores);
  const tollgate = await startTollgate({
    name: 'allocation-sites',
    repositoryRoot,
    upstreamUrl: mock.url,
    cores: gatewayCores,
    nodeArguments: ['--import', probe],
    environment: { HEAP_SAMPLING_PROBE_FILE: probeFile },
  });
  try {
    const target = { url: `${tollgate.url}${pathFor(kind)}`, headers: { authorization: `Bearer ${tollgate.apiKey}` }, body: requestBody(kind, tollgate.model) };
    const run = (durationS: number) => load.run<ThroughputResult>({ kind: 'throughput', target, connections: 32, durationS, loader: 'autocannon' });
    await run(3);
    await dumpProbe(tollgate.process.child, probeFile, 'the heap-sampling probe');
    const result = await run(seconds);
    const profile = await dumpProbe<{ head: ProfileNode }>(tollgate.process.child, probeFile, 'the heap-sampling probe');
    const sites = [...selfBytesBySite(profile.head)].sort((first, second) => second[1] - first[1]);
    const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0);
    const perRequest = (bytes: number) => bytes / result.requests;
    const lines = [
      `# Allocation sites — ${new Date().toISOString()}`,
      '',
      `${kind} requests at 32 connections for ${seconds} s (${result.requests} requests, ${formatNumber(result.requestsPerSecond, 0)} a second), Tollgate pinned alone to one core; ` +
        `V8's sampling heap profiler (one sample per 512 bytes on average), freed objects included: ${formatNumber(perRequest(total) / 1024, 1)} KB a request in all.`,
      '',
      '| bytes a request | share | function (allocating in itself) |',
      '|---:|---:|---|',
      ...sites.slice(0, top).map(([site, bytes]) => `| ${formatNumber(perRequest(bytes), 0)} | ${formatNumber((bytes / total) * 100, 1)} % | \`${site}\` |`),
    ];
    const table = `${lines.join('\n')}\n`;
    process.stdout.write(table);
    process.stdout.write(`\nwritten to ${writeResultFile('allocation-sites', table)}\n`);
  } finally {
    await tollgate.stop();
    removeTollgateData(tollgate);
    rmSync(probeDirectory, { recursive: true, force: true });
    await load.stop();
    await mock.process.stop();
  }
}

await main();
