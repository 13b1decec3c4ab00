/**
 * What Tollgate allocates per request: `node --import tsx bench/allocation.ts [--seconds=S] [--compare=DIR[,DIR…]]
 * [--kind=chat|stream] [--nice=N]` (after `npm run build`). Starts Tollgate (and each compared checkout's build) pinned like in the bench
 * with `--trace-gc-nvp`, drives it at 32 connections with the bench's non-streamed request (or its stream), and sums what V8 reports
 * at each collection during the measured window: kilobytes allocated per request, bytes that scavenges promoted to
 * the old generation per request (objects that outlived two scavenges: the dearer kind of garbage, whose growth
 * sets off full collections) and copied within the young generation (what each scavenge's pause is made of), how
 * many collections ran, and their pauses. Allocation counts do not depend on how busy the machine is the way CPU time does, so they
 * compare two builds where a CPU comparison needs many rotations; the promoted bytes move by a few hundred bytes
 * between runs of one build.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import type { ThroughputResult } from './lib/load-jobs.js';
import { requestBody } from './lib/scenarios.js';
import { round } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

/** Sums `name=<number>` over the lines V8's --trace-gc-nvp printed, or over those of one kind of collection (`gc=s`, `gc=mc`). */
function sumOf(text: string, name: string, kind?: string): number {
  let total = 0;
  const field = new RegExp(`\\b${name}=([\\d.]+)`);
  for (const line of text.split('\n')) {
    // V8's lines and the log's share standard output, and a log line written in the middle of one of V8's splits
    // it (a value's digits then run on into the next line's): only whole lines of V8's count.
    if (!/^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: pause=/.test(line) || line.includes('{')) continue;
    if (kind !== undefined && !line.includes(` gc=${kind} `)) continue;
    const match = field.exec(line);
    if (match) total += Number(match[1]);
  }
  return total;
}

async function main(): Promise<void> {
  const seconds = Number(flag('seconds', '5'));
  const kind = flag('kind', 'chat') === 'stream' ? 'stream' : 'chat';
  const roots = [repositoryRoot, ...flag('compare', '').split(',').filter((root) => root !== '')];
  const { gatewayCores, loadCores } = setUpTool();
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const load = await startLoadGenerator(loadCores);
  try {
    for (const [index, root] of roots.entries()) {
      const running = await startTollgate({
        name: `allocation-${index}`,
        repositoryRoot: path.resolve(root),
        upstreamUrl: mock.url,
        cores: gatewayCores,
        logLevel: 'info',
        nodeArguments: ['--trace-gc-nvp'],
      });
      try {
        const target = { url: `${running.url}/v1/chat/completions`, headers: { authorization: `Bearer ${running.apiKey}` }, body: requestBody(kind, running.model) };
        await load.run({ kind: 'throughput', target, connections: 32, durationS: 3, loader: 'autocannon' });
        // V8 writes its lines to the process's standard output, which the bench keeps in the log file.
        const before = readFileSync(running.logFile, 'utf8').length;
        const result = await load.run<ThroughputResult>({ kind: 'throughput', target, connections: 32, durationS: seconds, loader: 'autocannon' });
        const text = readFileSync(running.logFile, 'utf8').slice(before);
        const requests = result.requestsPerSecond * seconds;
        const scavenges = (text.match(/\bgc=s\b/g) ?? []).length;
        const fullCollections = (text.match(/\bgc=mc\b/g) ?? []).length;
        const name = index === 0 ? 'tollgate' : path.basename(path.resolve(root));
        process.stdout.write(
          `${name.padEnd(20)} ${String(round(requests, 0)).padStart(7)} requests  ${String(round(sumOf(text, 'allocated') / requests / 1024, 1)).padStart(5)} KB allocated and ${String(round(sumOf(text, 'promoted', 's') / requests, 0)).padStart(5)} B promoted and ${String(round(sumOf(text, 'new_space_survived', 's') / requests, 0)).padStart(5)} B kept young by scavenges per request  (${scavenges} scavenges, ${fullCollections} full collections; pauses per 1,000 requests: ${round((sumOf(text, 'pause', 's') / requests) * 1000, 1)} ms scavenging, ${round((sumOf(text, 'pause', 'mc') / requests) * 1000, 1)} ms full)\n`,
        );
      } finally {
        await running.stop();
        removeTollgateData(running);
      }
    }
  } finally {
    await load.stop();
    await mock.process.stop();
  }
}

await main();
