/**
 * What Tollgate allocates per request: `node --import tsx bench/allocation.ts [--seconds=S] [--compare=DIR[,DIR…]]
 * [--kind=chat|stream|prompt-10k|prompt-50k|messages|messages-stream|open-streams] [--streams=N] [--interval-ms=N] [--keep-log=1] [--nice=N]` (after `npm run build`). Starts Tollgate (and each
 * compared checkout's build) pinned like in the bench with `--trace-gc-nvp`, drives it at 32 connections with the bench's
 * non-streamed request (or its stream; `messages` and `messages-stream` send the Anthropic SDK's request to /v1/messages; with `open-streams`, `--streams` streams held open at once, paced as
 * bench/open-streams.ts paces them, 600 and 50 ms by default, counted per chunk), and sums what V8 reports
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
import type { LoadJob, OpenStreamsResult, Target, ThroughputResult } from './lib/load-jobs.js';
import { pathFor, requestBody, type BodyKind } from './lib/scenarios.js';
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
    // it (a value's digits then run on into the next line's): only whole lines of V8's count, from their start to
    // the field that ends them.
    if (!/^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: pause=/.test(line) || !/ (?:unmapper_chunks|compaction_speed)=[\d.]+$/.test(line) || line.includes('{')) continue;
    if (kind !== undefined && !line.includes(` gc=${kind} `)) continue;
    const match = field.exec(line);
    if (!match) continue;
    const value = Number(match[1]);
    // A full collection's `allocated` is what was allocated since the previous collection, which V8 sometimes
    // finds a few hundred bytes below zero and prints as its unsigned 64-bit wrap (18446744073709551000): nothing.
    if (value < 2 ** 63) total += value;
  }
  return total;
}

async function main(): Promise<void> {
  const seconds = Number(flag('seconds', '5'));
  const kindFlag = flag('kind', 'chat');
  const kinds = ['chat', 'stream', 'prompt-10k', 'prompt-50k', 'messages', 'messages-stream', 'open-streams'];
  if (!kinds.includes(kindFlag)) throw new Error(`--kind takes ${kinds.join(', ')}`);
  const paced = kindFlag === 'open-streams';
  const streams = Number(flag('streams', '600'));
  const intervalMs = Number(flag('interval-ms', '50'));
  const unit = paced ? 'chunk' : 'request';
  const keepLog = flag('keep-log', '') === '1';
  const roots = [repositoryRoot, ...flag('compare', '').split(',').filter((root) => root !== '')];
  const { gatewayCores, loadCores } = setUpTool();
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: paced ? intervalMs : 0, stampChunks: paced });
  // The open streams' 20 content chunks a stream start spread over one stream's life, as bench/open-streams.ts does.
  const job = (target: Target, durationS: number): LoadJob =>
    paced
      ? { kind: 'open-streams', target, streams, durationS, spreadMs: 20 * intervalMs }
      : { kind: 'throughput', target, connections: 32, durationS, loader: 'autocannon' };
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
        const kind: BodyKind = paced ? 'stream' : (kindFlag as BodyKind);
        const target = { url: `${running.url}${pathFor(kind)}`, headers: { authorization: `Bearer ${running.apiKey}` }, body: requestBody(kind, running.model) };
        await load.run(job(target, 3));
        // V8 writes its lines to the process's standard output, which the bench keeps in the log file.
        const before = readFileSync(running.logFile, 'utf8').length;
        const result = await load.run<ThroughputResult | OpenStreamsResult>(job(target, seconds));
        const text = readFileSync(running.logFile, 'utf8').slice(before);
        const requests = result.kind === 'open-streams' ? result.chunks : result.requestsPerSecond * seconds;
        const scavenges = (text.match(/\bgc=s\b/g) ?? []).length;
        const fullCollections = (text.match(/\bgc=mc\b/g) ?? []).length;
        const name = index === 0 ? 'tollgate' : path.basename(path.resolve(root));
        process.stdout.write(
          `${name.padEnd(20)} ${String(round(requests, 0)).padStart(7)} ${unit}s  ${String(round(sumOf(text, 'allocated') / requests / 1024, 1)).padStart(5)} KB allocated and ${String(round(sumOf(text, 'promoted', 's') / requests, 0)).padStart(5)} B promoted and ${String(round(sumOf(text, 'new_space_survived', 's') / requests, 0)).padStart(5)} B kept young by scavenges per ${unit}  (${scavenges} scavenges, ${fullCollections} full collections; pauses per 1,000 ${unit}s: ${round((sumOf(text, 'pause', 's') / requests) * 1000, 1)} ms scavenging, ${round((sumOf(text, 'pause', 'mc') / requests) * 1000, 1)} ms full)\n`,
        );
      } finally {
        await running.stop();
        if (keepLog) process.stdout.write(`log kept: ${running.logFile}\n`);
        else removeTollgateData(running);
      }
    }
  } finally {
    await load.stop();
    await mock.process.stop();
  }
}

await main();
