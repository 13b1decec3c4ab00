/**
 * Profiles Tollgate's request path: `node --import tsx bench/profile.ts [flags]` (after `npm run build`).
 *
 * For each phase, starts a fresh Tollgate from dist/index.js under `node --cpu-prof`, pinned like in the bench,
 * warms it up, drives it for the measured window, stops it (the profile is written at exit), and ranks the
 * functions and areas by CPU time within the measured window. Writes a markdown summary to bench/results/.
 *
 *   --phases=chat,stream,prompt-50k,chat-1conn,open-streams,messages,messages-stream   which loads to profile (default:
 *                   chat,stream,prompt-50k); messages and messages-stream send Anthropic Messages requests to /v1/messages
 *                   (Anthropic SDK clients, answered by the OpenAI mock through the translation)
 *                   open-streams: --connections streams held open at once, each paced as bench/open-streams.ts
 *                   paces them (20 content chunks --interval-ms apart, default 50); CPU is then per chunk
 *   --duration=S    measured seconds per phase (default 8)      --warmup=S   seconds before (default 3)
 *   --interval-us=N sampling interval (default 1000)             --connections=N (default 32)
 *   --log-level=L   Tollgate's LOG_LEVEL (default info)          --keep=DIR   keep the .cpuprofile files there
 *   --nice=N        nice value of the started processes (e.g. -10 on a shared machine; needs root)
 *   --system=tollgate|tollgate-pg   the embedded default (default) or PostgreSQL + Redis (a fresh database,
 *                   dropped at the end; --postgres-url and --redis-url as in the bench)
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseProfile, type ProfileSummary, type Ranked } from './lib/cpu-profile.js';
import { startLoadGenerator } from './lib/load-generator.js';
import type { LoadJob, LoadResult } from './lib/load-jobs.js';
import { sampleProcess } from './lib/processes.js';
import { pathFor, requestBody, type BodyKind } from './lib/scenarios.js';
import { round } from './lib/stats.js';
import { startMock, startTollgatePostgres, startTollgateSystem, type RunningMock, type StartOptions } from './lib/systems.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (text: string) => process.stdout.write(`${text}\n`);

/** Content chunks per stream as the mock writes them, and its pause between them in the open-streams phase. */
const PACED_CHUNKS = 20;

interface Phase {
  body: BodyKind;
  /** The phase needs the mock that paces and stamps its chunks (open streams) rather than the bursting one. */
  paced?: boolean;
  job: (target: LoadJob['target'], durationS: number, connections: number, intervalMs: number) => LoadJob;
}

const phases: Record<string, Phase> = {
  chat: { body: 'chat', job: (target, durationS, connections) => ({ kind: 'throughput', target, connections, durationS, loader: 'autocannon' }) },
  stream: { body: 'stream', job: (target, durationS, connections) => ({ kind: 'throughput', target, connections, durationS, loader: 'autocannon' }) },
  'prompt-50k': { body: 'prompt-50k', job: (target, durationS, connections) => ({ kind: 'throughput', target, connections, durationS, loader: 'autocannon' }) },
  messages: { body: 'messages', job: (target, durationS, connections) => ({ kind: 'throughput', target, connections, durationS, loader: 'autocannon' }) },
  'messages-stream': { body: 'messages-stream', job: (target, durationS, connections) => ({ kind: 'throughput', target, connections, durationS, loader: 'autocannon' }) },
  'chat-1conn': { body: 'chat', job: (target, durationS) => ({ kind: 'latency', target, mode: 'sequential', durationS }) },
  'open-streams': {
    body: 'stream',
    paced: true,
    job: (target, durationS, connections, intervalMs) => ({ kind: 'open-streams', target, streams: connections, durationS, spreadMs: PACED_CHUNKS * intervalMs }),
  },
};

function table(title: string, rows: Ranked[]): string {
  return [`### ${title}`, '', '| ms | % of busy | function / area |', '|---:|---:|---|', ...rows.map((row) => `| ${row.ms} | ${row.percent} | \`${row.name}\` |`), ''].join('\n');
}

function describe(result: LoadResult): string {
  if (result.kind === 'open-streams') return `${result.completed} streams, ${round(result.chunks / result.seconds, 0)} chunks/s`;
  if (result.kind === 'throughput') return `${round(result.requestsPerSecond, 0)} req/s`;
  if (result.kind === 'latency') return `p50 ${round(result.latencyMs.p50, 3)} ms, ${round(result.requests / result.seconds, 0)} req/s`;
  return `${result.requests} streams`;
}

async function main(): Promise<void> {
  const selected = flag('phases', 'chat,stream,prompt-50k').split(',').filter(Boolean);
  for (const phase of selected) if (!phases[phase]) throw new Error(`unknown phase ${phase}; known: ${Object.keys(phases).join(', ')}`);
  const durationS = Number(flag('duration', '8'));
  const warmupS = Number(flag('warmup', '3'));
  const intervalUs = Number(flag('interval-us', '1000'));
  const connections = Number(flag('connections', '32'));
  const logLevel = flag('log-level', 'info');
  const keep = flag('keep', '');
  const system = flag('system', 'tollgate');
  if (system !== 'tollgate' && system !== 'tollgate-pg') throw new Error(`unknown system ${system}; known: tollgate, tollgate-pg`);
  const { gatewayCores, loadCores } = setUpTool();
  const pinning = gatewayCores !== undefined;

  const intervalMs = Number(flag('interval-ms', '50'));
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  let pacedMock: RunningMock | undefined;
  const load = await startLoadGenerator(loadCores);
  const sections: string[] = [];
  try {
    for (const phase of selected) {
      const spec = phases[phase]!;
      if (spec.paced && !pacedMock) pacedMock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: intervalMs, stampChunks: true });
      const profileDirectory = mkdtempSync(path.join(os.tmpdir(), `tollgate-profile-${phase}-`));
      const spawned = Date.now();
      const startOptions: StartOptions = {
        repositoryRoot,
        mock: spec.paced ? pacedMock! : mock,
        gatewayCores,
        loadCores,
        logLevel,
        busyPollMicroseconds: 0,
        postgresUrl: flag('postgres-url', 'postgres://postgres@127.0.0.1:5432/postgres'),
        redisUrl: flag('redis-url', 'redis://127.0.0.1:6379/15'),
        nodeArguments: ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, `--cpu-prof-interval=${intervalUs}`],
      };
      const tollgate = system === 'tollgate' ? await startTollgateSystem('tollgate', startOptions) : await startTollgatePostgres(startOptions);
      const url = tollgate.url.replace(/\/v1\/chat\/completions$/, pathFor(spec.body));
      const target = { url, headers: tollgate.headers, body: requestBody(spec.body, tollgate.model) };
      await load.run(spec.job(target, warmupS, connections, intervalMs));
      const measuredFrom = Date.now() - spawned;
      const before = sampleProcess(tollgate.pid!);
      const result = await load.run<LoadResult>(spec.job(target, durationS, connections, intervalMs));
      const measuredUntil = Date.now() - spawned;
      const after = sampleProcess(tollgate.pid!);
      await tollgate.stop();
      const file = readdirSync(profileDirectory).find((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no .cpuprofile was written for ${phase}`);
      const summary: ProfileSummary = summariseProfile(path.join(profileDirectory, file), { fromMs: measuredFrom, untilMs: measuredUntil, limit: 25 });
      const unit = result.kind === 'open-streams' ? 'chunk' : 'request';
      const units = result.kind === 'open-streams' ? result.chunks : result.requests;
      const cpuPerRequest = before && after ? round(((after.cpuMs - before.cpuMs) / units) * 1000, 0) : Number.NaN;
      log(`\n${phase}: ${describe(result)}, ${cpuPerRequest} µs CPU per ${unit} (profiler on), busy ${summary.busyMs} of ${summary.windowMs} ms, GC ${summary.gcMs} ms`);
      for (const row of summary.selfByArea.slice(0, 12)) log(`  ${String(row.percent).padStart(5)}%  ${row.name}`);
      log('  top self time:');
      for (const row of summary.selfByFunction.slice(0, 15)) log(`  ${String(row.percent).padStart(5)}%  ${row.name}`);
      sections.push(
        [
          `## ${phase}`,
          '',
          `${describe(result)} with the profiler on (sampling every ${intervalUs} µs); ${cpuPerRequest} µs CPU per ${unit}; busy ${summary.busyMs} ms of a ${summary.windowMs} ms window; GC ${summary.gcMs} ms.`,
          '',
          table('self time by area', summary.selfByArea),
          table('self time by function', summary.selfByFunction),
          table("inclusive time of Tollgate's own functions", summary.inclusiveTollgate),
          table('inclusive time by function (each sample once per function on its stack)', summary.inclusiveByFunction),
        ].join('\n'),
      );
      if (keep) {
        mkdirSync(keep, { recursive: true });
        copyFileSync(path.join(profileDirectory, file), path.join(keep, `tollgate-${phase}.cpuprofile`));
      }
      rmSync(profileDirectory, { recursive: true, force: true });
    }
  } finally {
    await load.stop();
    await mock.process.stop();
    await pacedMock?.process.stop();
  }
  const directory = path.join(repositoryRoot, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const file = path.join(directory, `${stamp}-profile.md`);
  writeFileSync(
    file,
    [
      `# Tollgate CPU profile — ${new Date().toISOString()}`,
      '',
      `node --cpu-prof on dist/index.js (${system}), LOG_LEVEL=${logLevel}, pinned ${pinning ? 'to core 0 (mock and load on the other core)' : 'nowhere'}, concurrency ${connections}; ${warmupS} s warm-up excluded, ${durationS} s measured per phase.`,
      '',
      ...sections,
    ].join('\n'),
  );
  log(`\nprofile summary: ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
