/**
 * What holds a gateway's event loop up with many paced streams open: `node --import tsx bench/loop-stalls.ts
 * [--streams=200] [--seconds=10] [--warmup=5] [--runs=3] [--route=chat|messages] [--without=FLAG[,FLAG…]]
 * [--compare=DIR[,DIR…]] [--nice=N]` (after `npm run build`). Starts the mock writing a chunk every 50 ms (as
 * bench/open-streams.ts) and Tollgate pinned alone to core 0 with bench/lib/loop-stall-probe.mjs preloaded, keeps
 * `--streams` streams open through it, and reports per system (medians of `--runs` measurements in rotation): a
 * chunk's delay from the mock to the client, the event loop's stalls above 5 ms (how many, the longest, and the
 * share of stalled time with no garbage-collection pause of the event loop's thread inside it), those pauses, and
 * the CPU of the event loop's thread beside that of the process's other threads. A stall with no pause inside is the
 * loop's thread waiting for its core: on one core, V8's helper threads (concurrent marking, sweeping, compiling)
 * take turns with it. `--without=--single-threaded-gc` adds this checkout started without that flag of `npm start`'s;
 * `--compare` adds Tollgate as built in another checkout (as bench/floor.ts takes it). Writes the table to
 * bench/results/<time>-loop-stalls.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import { dumpProbe } from './lib/probe-dump.js';
import { writeResultFile } from './lib/result-file.js';
import type { OpenStreamsResult, Target } from './lib/load-jobs.js';
import { sampleThreads } from './lib/processes.js';
import { requestBody } from './lib/scenarios.js';
import { formatNumber, median } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startCommand, startTollgate, type RunningTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const probe = fileURLToPath(new URL('lib/loop-stall-probe.mjs', import.meta.url));
/** Content chunks per stream, as the mock writes them. */
const CHUNKS = 20;
const INTERVAL_MS = 50;

/** What bench/lib/loop-stall-probe.mjs writes. */
interface ProbeSummary {
  windowMs: number;
  stalls: number;
  stallMs: number;
  longestStallMs: number;
  stallsWithoutPause: number;
  stallMsWithoutPause: number;
  pauses: number;
  pauseMs: number;
  longestPauseMs: number;
}

interface Measurement {
  result: OpenStreamsResult;
  probe: ProbeSummary;
  mainCpuMs: number;
  otherCpuMs: number;
}

interface System {
  label: string;
  tollgate: RunningTollgate;
  probeFile: string;
  target: Target;
  measurements: Measurement[];
}

/** Has the probe write what it saw since its last dump, and reads it. */
function dump(system: System): Promise<ProbeSummary> {
  return dumpProbe<ProbeSummary>(system.tollgate.process.child, system.probeFile, `${system.label}: the loop-stall probe`);
}

function targetOf(tollgate: RunningTollgate, route: string): Target {
  if (route === 'messages') {
    return {
      url: `${tollgate.url}/v1/messages`,
      headers: { authorization: `Bearer ${tollgate.apiKey}`, 'anthropic-version': '2023-06-01' },
      body: requestBody('messages-stream', tollgate.model),
    };
  }
  return { url: `${tollgate.url}/v1/chat/completions`, headers: { authorization: `Bearer ${tollgate.apiKey}` }, body: requestBody('stream', tollgate.model) };
}

function row(system: System): string {
  const of = (pick: (measurement: Measurement) => number): number => median(system.measurements.map(pick));
  const perSecond = (measurement: Measurement, value: number): number => (value * 1000) / measurement.probe.windowMs;
  const cells = [
    system.label,
    formatNumber(of((measurement) => measurement.result.chunks / measurement.result.seconds), 0),
    `${formatNumber(of((measurement) => measurement.result.deliveryMs.p50), 2)} / ${formatNumber(of((measurement) => measurement.result.deliveryMs.p99), 2)} / ${formatNumber(of((measurement) => measurement.result.deliveryMs.max), 1)}`,
    formatNumber(of((measurement) => perSecond(measurement, measurement.probe.stalls)), 2),
    formatNumber(of((measurement) => measurement.probe.longestStallMs), 1),
    formatNumber(of((measurement) => (measurement.probe.stallMs > 0 ? (measurement.probe.stallMsWithoutPause / measurement.probe.stallMs) * 100 : 0)), 0),
    `${formatNumber(of((measurement) => perSecond(measurement, measurement.probe.pauseMs)), 1)} / ${formatNumber(of((measurement) => measurement.probe.longestPauseMs), 1)}`,
    `${formatNumber(of((measurement) => perSecond(measurement, measurement.mainCpuMs)), 0)} / ${formatNumber(of((measurement) => perSecond(measurement, measurement.otherCpuMs)), 0)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const streams = Number(flag('streams', '200'));
  const seconds = Number(flag('seconds', '10'));
  const warmupSeconds = Number(flag('warmup', '5'));
  const runs = Number(flag('runs', '3'));
  const route = flag('route', 'chat');
  if (route !== 'chat' && route !== 'messages') throw new Error('--route takes chat or messages');
  if (!Number.isInteger(streams) || streams < 1) throw new Error('--streams takes a whole number above 0');
  const without = flag('without', '').split(',').filter((name) => name !== '');
  const startFlags = startCommand(repositoryRoot).flags;
  const unknown = without.filter((name) => !startFlags.includes(name));
  if (unknown.length > 0) throw new Error(`--without: ${unknown.join(', ')} not among npm start's flags (${startFlags.join(' ')})`);
  const { gatewayCores, loadCores } = setUpTool();
  const probeDirectory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-loop-stalls-'));
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: INTERVAL_MS, stampChunks: true });
  const load = await startLoadGenerator(loadCores);
  const starts = [
    { label: 'tollgate', root: repositoryRoot, withoutFlags: [] as string[] },
    ...(without.length > 0 ? [{ label: `tollgate without ${without.join(' ')}`, root: repositoryRoot, withoutFlags: without }] : []),
    ...flag('compare', '')
      .split(',')
      .filter((directory) => directory !== '')
      .map((directory) => ({ label: `tollgate@${path.basename(path.resolve(directory))}`, root: path.resolve(directory), withoutFlags: [] as string[] })),
  ];
  const systems: System[] = [];
  try {
    for (const [index, start] of starts.entries()) {
      const probeFile = path.join(probeDirectory, `${index}.json`);
      const tollgate = await startTollgate({
        name: `loop-stalls-${index}`,
        repositoryRoot: start.root,
        upstreamUrl: mock.url,
        cores: gatewayCores,
        nodeArguments: ['--import', probe],
        withoutFlags: start.withoutFlags,
        environment: { LOOP_STALL_PROBE_FILE: probeFile },
      });
      systems.push({ label: start.label, tollgate, probeFile, target: targetOf(tollgate, route), measurements: [] });
    }
    const job = (system: System, durationS: number) =>
      load.run<OpenStreamsResult>({ kind: 'open-streams', target: system.target, streams, durationS, spreadMs: CHUNKS * INTERVAL_MS });
    for (const system of systems) await job(system, warmupSeconds);
    for (let repetition = 0; repetition < runs; repetition += 1) {
      for (const system of [...systems.slice(repetition % systems.length), ...systems.slice(0, repetition % systems.length)]) {
        await dump(system);
        const before = sampleThreads(system.tollgate.process.pid);
        const result = await job(system, seconds);
        const after = sampleThreads(system.tollgate.process.pid);
        const summary = await dump(system);
        system.measurements.push({
          result,
          probe: summary,
          mainCpuMs: before && after ? after.mainCpuMs - before.mainCpuMs : Number.NaN,
          otherCpuMs: before && after ? after.otherCpuMs - before.otherCpuMs : Number.NaN,
        });
        process.stdout.write('.');
      }
    }
    process.stdout.write('\n');
    const lines = [
      `# Loop stalls — ${new Date().toISOString()}`,
      '',
      `${streams} streams open through /v1/${route === 'messages' ? 'messages' : 'chat/completions'}, a chunk every ${INTERVAL_MS} ms; the gateway pinned alone to one core; medians of ${runs} runs of ${seconds} s. ` +
        `Stalls: the event loop held up for more than 5 ms; "no GC pause" is the share of stalled time with no garbage-collection pause of the event loop's thread inside it.`,
      '',
      '| system | chunks/s | chunk delivery p50 / p99 / worst (ms) | stalls > 5 ms a second | longest stall (ms) | stalled time with no GC pause (%) | GC pauses ms a second / longest (ms) | CPU ms a second: event loop / other threads |',
      '|---|---:|---|---:|---:|---:|---|---|',
      ...systems.map(row),
    ];
    const table = `${lines.join('\n')}\n`;
    process.stdout.write(`\n${table}`);
    process.stdout.write(`\nwritten to ${writeResultFile('loop-stalls', table)}\n`);
  } finally {
    for (const system of systems) {
      await system.tollgate.stop();
      removeTollgateData(system.tollgate);
    }
    rmSync(probeDirectory, { recursive: true, force: true });
    await load.stop();
    await mock.process.stop();
  }
}

await main();
