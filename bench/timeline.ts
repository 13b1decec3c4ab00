/**
 * Where a request's time goes at one connection: `node --import tsx bench/timeline.ts [--runs=N] [--seconds=S]
 * [--warmup=S] [--compare=DIR[,DIR…]] [--nice=N]` (after `npm run build`). Starts the mock upstream, bench/floor/fastify-undici-proxy.mjs
 * (Tollgate's stack and nothing else) and Tollgate, each gateway pinned alone to core 0 with bench/lib/timeline-probe.mjs
 * preloaded, and sends each the bench's non-streamed request one at a time, in rotation `--runs` times (3) of
 * `--seconds` (3) after `--warmup` seconds (3). The probe times each request's phases from Node's and undici's
 * diagnostics channels (no change to the gateway's code): until the upstream request is written, the write itself,
 * the rest of that turn of the event loop, the wait for the upstream's reply, its body, and the reply out to the
 * client. The table gives each phase's median (the median of the runs' medians) for both, and Tollgate's difference:
 * what Tollgate adds to the one-connection latency, phase by phase, beside what its framework costs. `--compare=DIR`
 * adds Tollgate as built in another checkout (as bench/floor.ts takes it), measured in the same rotation: a change's
 * effect phase by phase. The probe's own marks cost a few microseconds a request; every gateway pays them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import { dumpProbe } from './lib/probe-dump.js';
import type { LatencyResult, Target } from './lib/load-jobs.js';
import { freePort, spawnPinned, waitForPort, type SpawnedProcess } from './lib/processes.js';
import { requestBody } from './lib/scenarios.js';
import { median, round } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate, type RunningTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const probe = fileURLToPath(new URL('lib/timeline-probe.mjs', import.meta.url));

interface ProbeSummary {
  requests: number;
  phases: Array<{ from: string; to: string; label: string; medianUs: number | null }>;
}

interface System {
  name: string;
  process: SpawnedProcess;
  target: Target;
  probeFile: string;
  runs: ProbeSummary[];
  clientP50Ms: number[];
}

/** Has the probe write what it saw since its last dump, and reads it. */
function dump(system: System): Promise<ProbeSummary> {
  return dumpProbe<ProbeSummary>(system.process.child, system.probeFile, `${system.name}: the timeline probe`);
}

async function main(): Promise<void> {
  const runs = Number(flag('runs', '3'));
  const seconds = Number(flag('seconds', '3'));
  const warmupSeconds = Number(flag('warmup', '3'));
  const { gatewayCores, loadCores } = setUpTool();
  const probeDirectory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-timeline-'));
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const load = await startLoadGenerator(loadCores);
  const floorPort = await freePort();
  const floorProbeFile = path.join(probeDirectory, 'floor.json');
  const floor = spawnPinned({
    name: 'fastify + undici',
    command: process.execPath,
    args: ['--import', probe, fileURLToPath(new URL('floor/fastify-undici-proxy.mjs', import.meta.url)), `--port=${floorPort}`, `--upstream=${mock.url}`],
    env: { ...process.env, TIMELINE_PROBE_FILE: floorProbeFile },
    cores: gatewayCores,
  });
  await waitForPort(floorPort, 15_000, floor);
  const systems: System[] = [
    { name: 'fastify + undici', process: floor, target: { url: `http://127.0.0.1:${floorPort}/v1/chat/completions`, headers: {}, body: requestBody('chat', 'gpt-4o-mini') }, probeFile: floorProbeFile, runs: [], clientP50Ms: [] },
  ];
  const roots = [repositoryRoot, ...flag('compare', '').split(',').filter((root) => root !== '')];
  const gateways: RunningTollgate[] = [];
  for (const [index, root] of roots.entries()) {
    const probeFile = path.join(probeDirectory, `tollgate-${index}.json`);
    const running = await startTollgate({
      name: `timeline-tollgate-${index}`,
      repositoryRoot: path.resolve(root),
      upstreamUrl: mock.url,
      cores: gatewayCores,
      nodeArguments: ['--import', probe],
      environment: { TIMELINE_PROBE_FILE: probeFile },
    });
    gateways.push(running);
    systems.push({
      name: index === 0 ? 'tollgate' : path.basename(path.resolve(root)),
      process: running.process,
      target: { url: `${running.url}/v1/chat/completions`, headers: { authorization: `Bearer ${running.apiKey}` }, body: requestBody('chat', running.model) },
      probeFile,
      runs: [],
      clientP50Ms: [],
    });
  }
  const sequential = (target: Target, durationS: number) => load.run<LatencyResult>({ kind: 'latency', target, mode: 'sequential', durationS });
  try {
    for (const system of systems) {
      await sequential(system.target, warmupSeconds);
      await dump(system);
    }
    for (let run = 0; run < runs; run += 1) {
      for (const system of systems) {
        const result = await sequential(system.target, seconds);
        system.clientP50Ms.push(result.latencyMs.p50);
        system.runs.push(await dump(system));
      }
    }
  } finally {
    for (const running of gateways) {
      await running.stop();
      removeTollgateData(running);
    }
    await floor.stop();
    await load.stop();
    await mock.process.stop();
    rmSync(probeDirectory, { recursive: true, force: true });
  }
  const [base, tollgateSystem] = systems as [System, System, ...System[]];
  const phaseMedian = (system: System, index: number) => median(system.runs.map((run) => run.phases[index]?.medianUs ?? Number.NaN).filter(Number.isFinite));
  const rows = base.runs[0]!.phases.map((phase, index) => {
    const values = systems.map((system) => phaseMedian(system, index));
    return `| ${phase.label} | ${values.map((value) => round(value, 1)).join(' | ')} | ${round(values[1]! - values[0]!, 1)} |`;
  });
  const clientP50 = systems.map((system) => median(system.clientP50Ms));
  process.stdout.write(
    [
      `One request at a time, ${runs} runs of ${seconds} s each; medians in µs (phases from the gateway's own clock).`,
      '',
      `| phase | ${systems.map((system) => system.name).join(' | ')} | ${tollgateSystem.name} − ${base.name} |`,
      `|---|${systems.map(() => '---:').join('|')}|---:|`,
      ...rows,
      `| client's p50 (ms) | ${clientP50.map((value) => round(value, 3)).join(' | ')} | ${round(clientP50[1]! - clientP50[0]!, 3)} |`,
      '',
    ].join('\n'),
  );
}

await main();
