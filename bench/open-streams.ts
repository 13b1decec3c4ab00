/**
 * Many streams open at once, paced as a model writes them: `node --import tsx bench/open-streams.ts
 * [--streams=200,1000] [--interval-ms=50] [--seconds=10] [--warmup=3] [--runs=2]
 * [--systems=direct,node-proxy,tollgate,portkey] [--route=chat|messages] [--compare=DIR[,DIR…]] [--nice=N]` (after
 * `npm run build`). `--compare` adds a Tollgate built in another checkout per directory, named `tollgate@<folder>`,
 * measured in the same rotation (an A/B of a change; see bench/floor.ts for making such a checkout).
 *
 * The main benchmark's streams arrive from the mock in one burst and last a millisecond; a model's last seconds,
 * one chunk every few tens of milliseconds, and a gateway serving many applications holds hundreds or thousands of
 * them open at once. Here the mock writes each of its 20 content chunks `--interval-ms` apart, stamped with the
 * moment it was written (the monotonic clock the load generator reads too), and the load generator keeps
 * `--streams` streams open through each system for `--seconds`, each followed at once by the next. Per system and
 * stream count: streams and chunks delivered a second, how long a chunk took from the mock to the client (p50, p99,
 * worst) and what the gateway added to that over `direct` (client → mock), the gateway's CPU per chunk, and its
 * resident memory idle and with the streams open (the difference per open stream). Systems are measured in
 * rotation, `--runs` times, after one warm-up each; the table gives medians of the runs. `--route=messages` sends
 * Tollgate Anthropic Messages requests instead (the Anthropic SDK's, translated to the OpenAI upstream and its stream
 * back into Anthropic events). Writes the table to bench/results/<time>-open-streams[-messages].md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import type { OpenStreamsResult, Target } from './lib/load-jobs.js';
import { cpuIdleBehaviour, sampleProcess } from './lib/processes.js';
import { targetFor } from './lib/scenarios.js';
import { formatNumber, median } from './lib/stats.js';
import type { SystemName } from './lib/options.js';
import { startMock, startSystem, type SystemUnderTest } from './lib/systems.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
/** Content chunks per stream, as the mock writes them (the finish and usage chunks follow). */
const CHUNKS = 20;

interface Measurement {
  result: OpenStreamsResult;
  cpuMicrosecondsPerChunk: number | undefined;
  idleRssMb: number | undefined;
  peakRssMb: number | undefined;
}

/** Runs one job while sampling the gateway's memory; CPU and memory are undefined for `direct` (no gateway). */
async function measure(run: () => Promise<OpenStreamsResult>, pid: number | undefined): Promise<Measurement> {
  const before = pid === undefined ? undefined : sampleProcess(pid);
  let peakRss = before?.rssBytes ?? 0;
  const sampler =
    pid === undefined
      ? undefined
      : setInterval(() => {
          const sample = sampleProcess(pid);
          if (sample) peakRss = Math.max(peakRss, sample.rssBytes);
        }, 250);
  try {
    const result = await run();
    const after = pid === undefined ? undefined : sampleProcess(pid);
    return {
      result,
      cpuMicrosecondsPerChunk: before && after && result.chunks > 0 ? ((after.cpuMs - before.cpuMs) * 1000) / result.chunks : undefined,
      idleRssMb: before ? before.rssBytes / 2 ** 20 : undefined,
      peakRssMb: before ? peakRss / 2 ** 20 : undefined,
    };
  } finally {
    if (sampler) clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const streamCounts = flag('streams', '200,1000').split(',').map(Number);
  const intervalMs = Number(flag('interval-ms', '50'));
  const seconds = Number(flag('seconds', '10'));
  const warmupSeconds = Number(flag('warmup', '3'));
  const runs = Number(flag('runs', '2'));
  const route = flag('route', 'chat');
  if (route !== 'chat' && route !== 'messages') throw new Error('--route takes chat or messages');
  // Only Tollgate answers /v1/messages in front of an OpenAI upstream; `direct` stays the baseline on the mock's route.
  const names = flag('systems', route === 'messages' ? 'direct,tollgate' : 'direct,node-proxy,tollgate,portkey').split(',') as SystemName[];
  const targetOf = (system: SystemUnderTest): Target =>
    route === 'messages' && system.name.startsWith('tollgate')
      ? {
          url: system.url.replace('/v1/chat/completions', '/v1/messages'),
          headers: { ...system.headers, 'anthropic-version': '2023-06-01' },
          body: JSON.stringify({ model: system.model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] }),
        }
      : targetFor(system, 'stream');
  if (streamCounts.some((count) => !Number.isInteger(count) || count < 1)) throw new Error('--streams takes whole numbers above 0');
  const { gatewayCores, loadCores } = setUpTool();
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: intervalMs, stampChunks: true });
  const load = await startLoadGenerator(loadCores);
  const systems: SystemUnderTest[] = [];
  // What each system is called in the table: its name, or `tollgate@<folder>` for a compared checkout.
  const labels = new Map<SystemUnderTest, string>();
  const labelOf = (system: SystemUnderTest): string => labels.get(system) ?? system.name;
  const rows: string[] = [];
  try {
    const compared = flag('compare', '').split(',').filter((directory) => directory !== '');
    const starts: Array<{ name: SystemName; root: string; label?: string }> = [
      ...names.map((name) => ({ name, root: repositoryRoot })),
      ...compared.map((directory) => ({ name: 'tollgate' as const, root: path.resolve(directory), label: `tollgate@${path.basename(path.resolve(directory))}` })),
    ];
    for (const { name, root, label } of starts) {
      const system = await startSystem(name, {
        repositoryRoot: root,
        mock,
        gatewayCores,
        loadCores,
        logLevel: flag('log-level', 'info'),
        busyPollMicroseconds: 0,
        relayChunks: true,
        postgresUrl: flag('postgres', 'postgres://postgres@127.0.0.1:5432/test'),
        redisUrl: flag('redis', 'redis://127.0.0.1:6379'),
      });
      systems.push(system);
      if (label !== undefined) labels.set(system, label);
    }
    // One stream lasts about CHUNKS intervals; starting the streams over that span keeps their chunks apart.
    const spreadMs = CHUNKS * intervalMs;
    for (const streams of streamCounts) {
      const job = (system: SystemUnderTest, durationS: number) => () =>
        load.run<OpenStreamsResult>({ kind: 'open-streams', target: targetOf(system), streams, durationS, spreadMs });
      for (const system of systems) await job(system, warmupSeconds)();
      const measured = new Map<string, Measurement[]>(systems.map((system) => [labelOf(system), []]));
      for (let repetition = 0; repetition < runs; repetition += 1) {
        for (const system of [...systems.slice(repetition % systems.length), ...systems.slice(0, repetition % systems.length)]) {
          measured.get(labelOf(system))!.push(await measure(job(system, seconds), system.pid));
          process.stdout.write('.');
        }
      }
      process.stdout.write('\n');
      const direct = measured.get('direct') ?? [];
      const directP50 = median(direct.map((entry) => entry.result.deliveryMs.p50));
      const directP99 = median(direct.map((entry) => entry.result.deliveryMs.p99));
      const directFirstByte = median(direct.map((entry) => entry.result.firstByteMs.p50));
      for (const system of systems) {
        const entries = measured.get(labelOf(system))!;
        const of = (pick: (entry: Measurement) => number | undefined) => median(entries.map(pick));
        const p50 = of((entry) => entry.result.deliveryMs.p50);
        const p99 = of((entry) => entry.result.deliveryMs.p99);
        const firstByte = of((entry) => entry.result.firstByteMs.p50);
        const idle = of((entry) => entry.idleRssMb);
        const peak = of((entry) => entry.peakRssMb);
        rows.push(
          `| ${streams} | ${labelOf(system)} | ${formatNumber(of((entry) => entry.result.completed / entry.result.seconds), 0)} | ${formatNumber(of((entry) => entry.result.chunks / entry.result.seconds), 0)} | ${formatNumber(p50, 2)} / ${formatNumber(p99, 2)} / ${formatNumber(Math.max(...entries.map((entry) => entry.result.deliveryMs.max)), 1)} | ${system.name === 'direct' ? '' : `${formatNumber(p50 - directP50, 2)} / ${formatNumber(p99 - directP99, 2)}`} | ${formatNumber(firstByte, 2)}${system.name === 'direct' ? '' : ` (${formatNumber(firstByte - directFirstByte, 2)})`} | ${formatNumber(of((entry) => entry.cpuMicrosecondsPerChunk), 1)} | ${formatNumber(idle, 1)} → ${formatNumber(peak, 1)} | ${formatNumber(((peak - idle) * 1024) / streams, 1)} | ${entries.reduce((sum, entry) => sum + entry.result.failures, 0)} |`,
        );
      }
      process.stdout.write(`${rows.slice(-systems.length).join('\n')}\n`);
    }
  } finally {
    await load.stop();
    for (const system of systems) await system.stop();
    await mock.process.stop();
  }
  const table = [
    '| streams open | system | streams/s | chunks/s | chunk delivery p50 / p99 / worst (ms) | added over direct p50 / p99 (ms) | first byte p50 (added), ms | gateway CPU µs per chunk | gateway RSS idle → open (MB) | KB per open stream | failed streams |',
    '|---:|---|---:|---:|---|---|---|---:|---|---:|---:|',
    ...rows,
  ];
  const directory = path.join(repositoryRoot, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const file = path.join(directory, `${stamp}-open-streams${route === 'messages' ? '-messages' : ''}.md`);
  writeFileSync(
    file,
    [
      `# Many streams open at once — ${new Date().toISOString()}`,
      '',
      `bench/open-streams.ts${route === 'messages' ? ' --route=messages (Tollgate answers /v1/messages, direct the mock\'s chat route)' : ''}: ${CHUNKS} content chunks a stream, ${intervalMs} ms apart (plus the finish and usage chunks), the streams started over ${CHUNKS * intervalMs} ms and each followed at once by the next; ${runs} runs of ${seconds} s per system and stream count after a ${warmupSeconds} s warm-up, medians of the runs (worst: of all runs). Gateways pinned ${gatewayCores === undefined ? 'nowhere' : `to core ${gatewayCores}, mock and load generator to ${loadCores}`}. ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${cpuIdleBehaviour()}, Node ${process.version}.`,
      '',
      ...table,
      '',
    ].join('\n'),
  );
  process.stdout.write(`\n${table.join('\n')}\n\nwritten to ${path.relative(process.cwd(), file)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`open-streams failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
