/**
 * Tollgate's benchmark suite: `npm run bench` (build, then this script). See bench/README.md.
 *
 * Starts a mock upstream and a load generator (pinned together on one core), the systems under test (gateways
 * pinned alone on another core), then for each repetition and scenario measures every system in turn, after a
 * warm-up, rotating the order between repetitions. Prints medians, ratios and the issue's targets, and writes
 * JSON and markdown to bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startCoreSpeedProbe, type CoreSpeedProbe } from './lib/core-speed.js';
import { startLoadGenerator, type LoadGenerator } from './lib/load-generator.js';
import type { LoadJob, SuiteResult, ThroughputResult } from './lib/load-jobs.js';
import { parseOptions, usage, type BenchOptions, type SystemName } from './lib/options.js';
import { portkeyEntry } from './lib/portkey.js';
import { canPin, cpuIdleBehaviour, machineLoad, pin, sampleCores, sampleProcess, setNiceness, type CoreTimes } from './lib/processes.js';
import { renderMarkdown, renderText, summarise, type Measurement, type Report, type SoakSummary } from './lib/report.js';
import { checkTargets } from './lib/target-checks.js';
import { fixedRateJob, selectedScenarios, targetFor, type Scenario } from './lib/scenarios.js';
import { round } from './lib/stats.js';
import { startMock, startSystem, startTollgateSystem, type RunningMock, type StartOptions, type SystemUnderTest } from './lib/systems.js';
import { startCommand } from './lib/tollgate.js';
import { wrkAvailable } from './lib/throughput-client.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (text: string) => process.stdout.write(`${text}\n`);

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repositoryRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(manifest: string): string {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** One request of each kind through a system; throws unless the answer is right and the mock saw it. */
async function smokeTest(system: SystemUnderTest, mock: RunningMock): Promise<void> {
  const before = await mock.served();
  const chat = await request(system.url, { method: 'POST', headers: { 'content-type': 'application/json', ...system.headers }, body: targetFor(system, 'chat').body });
  const text = await chat.body.text();
  if (chat.statusCode !== 200 || !text.includes('"choices"')) throw new Error(`${system.name}: chat answered ${chat.statusCode}: ${text.slice(0, 300)}`);
  const stream = await request(system.url, { method: 'POST', headers: { 'content-type': 'application/json', ...system.headers }, body: targetFor(system, 'stream').body });
  const events = await stream.body.text();
  if (stream.statusCode !== 200 || !events.includes('data: [DONE]') || !events.includes('"usage"')) {
    throw new Error(`${system.name}: stream answered ${stream.statusCode}: ${events.slice(0, 300)}`);
  }
  const after = await mock.served();
  if (after - before !== 2) throw new Error(`${system.name}: the mock saw ${after - before} requests instead of 2`);
}

function describe(result: SuiteResult): string {
  if (result.kind === 'throughput') return `${round(result.requestsPerSecond, 0)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`;
  if (result.kind === 'latency') return `p50 ${round(result.latencyMs.p50, 3)} ms, p99 ${round(result.latencyMs.p99, 3)} ms, ${round(result.requests / result.seconds, 0)} req/s`;
  return `first byte p50 ${round(result.firstByteMs.p50, 3)} ms, last byte p50 ${round(result.lastByteMs.p50, 3)} ms`;
}

function jobFor(scenario: Scenario, system: SystemUnderTest, options: BenchOptions, durationS: number, loader: 'autocannon' | 'wrk'): LoadJob {
  const job = scenario.job(targetFor(system, scenario.body), options, durationS);
  return job.kind === 'throughput' ? { ...job, loader } : job;
}

interface CoreLayout {
  gateway: number[];
  load: number[];
  /** Times a fixed piece of work on the gateway's core during each measurement (see lib/core-speed.ts). */
  probe?: CoreSpeedProbe;
}

/** Core numbers of a taskset list such as "0" or "1-3". */
function coreList(cores: string | undefined): number[] {
  if (!cores) return [];
  return cores.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    return Array.from({ length: (to ?? from!) - from! + 1 }, (_, index) => from! + index);
  });
}

async function measure(
  load: LoadGenerator,
  system: SystemUnderTest,
  job: LoadJob,
  layout: CoreLayout | undefined,
): Promise<Pick<Measurement, 'result' | 'gateway' | 'machine'>> {
  await layout?.probe?.start();
  const before = system.pid ? sampleProcess(system.pid) : undefined;
  const coresBefore = layout ? sampleCores() : undefined;
  const began = performance.now();
  const result = await load.run<SuiteResult>(job);
  const wallMs = performance.now() - began;
  const coresAfter = layout ? sampleCores() : undefined;
  const after = system.pid ? sampleProcess(system.pid) : undefined;
  const probe = await layout?.probe?.finish();
  const measurement: Pick<Measurement, 'result' | 'gateway' | 'machine'> = { result };
  const gatewayCpuMs = before && after ? after.cpuMs - before.cpuMs : 0;
  if (before && after && result.requests > 0) {
    measurement.gateway = { cpuMsPer1k: round((gatewayCpuMs / result.requests) * 1000, 1), rssMb: round(after.rssBytes / 1048576, 1) };
  }
  if (layout && coresBefore && coresAfter) {
    const spent = (cores: number[], kind: keyof CoreTimes) =>
      cores.reduce((sum, core) => sum + ((coresAfter[core]?.[kind] ?? 0) - (coresBefore[core]?.[kind] ?? 0)), 0);
    const busy = (cores: number[]) => spent(cores, 'busyMs') + spent(cores, 'stolenMs');
    measurement.machine = {
      otherOnGatewayCorePct: round(
        Math.max(0, ((spent(layout.gateway, 'busyMs') - gatewayCpuMs - (probe?.usedUs ?? 0) / 1000) / (wallMs * layout.gateway.length)) * 100),
        1,
      ),
      stolenFromGatewayCorePct: round((spent(layout.gateway, 'stolenMs') / (wallMs * layout.gateway.length)) * 100, 1),
      loadCoresBusyPct: round((busy(layout.load) / (wallMs * layout.load.length)) * 100, 1),
      ...(probe && Number.isFinite(probe.workUs) ? { coreProbeUs: round(probe.workUs, 1) } : {}),
    };
  }
  return measurement;
}

async function soak(load: LoadGenerator, startOptions: StartOptions, options: BenchOptions): Promise<SoakSummary | undefined> {
  log(`\nsoak: a fresh Tollgate, 5 blocks of ${options.soakBlock} requests at concurrency ${options.connections}`);
  const system = await startTollgateSystem('tollgate-soak', startOptions);
  try {
    await smokeTest(system, startOptions.mock);
    const target = targetFor(system, 'chat');
    const blocks: SoakSummary['blocks'] = [];
    for (let index = 0; index < 5; index += 1) {
      const before = sampleProcess(system.pid!);
      const result = await load.run<ThroughputResult>({ kind: 'throughput', target, connections: options.connections, amount: options.soakBlock, loader: 'autocannon' });
      const after = sampleProcess(system.pid!);
      const block = {
        requests: result.requests,
        requestsPerSecond: round(result.requestsPerSecond, 0),
        rssMb: round((after?.rssBytes ?? Number.NaN) / 1048576, 1),
        cpuMsPer1k: before && after ? round(((after.cpuMs - before.cpuMs) / result.requests) * 1000, 1) : Number.NaN,
        failures: result.failures,
      };
      blocks.push(block);
      log(`  block ${index + 1}: ${block.requests} requests, ${block.requestsPerSecond} req/s, RSS ${block.rssMb} MB`);
    }
    return {
      blocks,
      totalRequests: blocks.reduce((sum, block) => sum + block.requests, 0),
      rssAfterMb: blocks[4]!.rssMb,
      growthMb: round(blocks[4]!.rssMb - blocks[1]!.rssMb, 1),
    };
  } finally {
    await system.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    log(usage);
    return;
  }
  if (!existsSync(path.join(repositoryRoot, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first (npm run bench does)');
  const scenarioList = selectedScenarios(options);
  const cores = os.availableParallelism();
  const pinning = options.pin && canPin() && cores >= 2;
  const gatewayCores = pinning ? '0' : undefined;
  const loadCores = pinning ? (cores > 2 ? `1-${cores - 1}` : '1') : undefined;
  if (pinning) pin(process.pid, loadCores);
  if (options.nice !== 0) {
    setNiceness(options.nice);
    os.setPriority(options.nice);
  }
  const layout: CoreLayout | undefined = pinning && sampleCores() ? { gateway: coreList(gatewayCores), load: coreList(loadCores) } : undefined;
  const loader = options.loader === 'auto' ? (wrkAvailable() ? 'wrk' : 'autocannon') : options.loader;
  if (loader === 'wrk' && !wrkAvailable()) throw new Error('--loader=wrk: wrk is not installed (e.g. apt-get install -y wrk)');
  const wanted = new Set<SystemName>(options.systems);
  if (!portkeyEntry()) {
    log('note: @portkey-ai/gateway is not installed; skipping portkey');
    wanted.delete('portkey');
  }

  const loadAtStart = machineLoad();
  const started = Date.now();
  log(`Tollgate bench: ${cores} cores, pinning ${pinning ? `gateways on core ${gatewayCores}, mock + load on ${loadCores}` : 'off'}, loader ${loader}${options.nice !== 0 ? `, nice ${options.nice}` : ''}`);
  log(`${options.repetitions} repetition(s) × ${scenarioList.length} scenario(s), ${options.durationS} s each after ${options.warmupS} s warm-up`);
  if (loadAtStart.loadAverage[0]! > cores * 0.5) {
    log(`warning: the machine is busy (load average ${loadAtStart.loadAverage.join(', ')} on ${cores} cores); numbers will be noisy — see "other load on gw core %"`);
  }

  const mock = await startMock({ cores: loadCores, delayMs: options.delayMs, chunkDelayMs: options.chunkDelayMs });
  let load: LoadGenerator;
  try {
    load = await startLoadGenerator(loadCores);
  } catch (error) {
    await mock.process.stop();
    throw error;
  }
  if (layout) {
    try {
      layout.probe = await startCoreSpeedProbe(gatewayCores!);
    } catch (error) {
      log(`note: no core speed probe (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const systems: SystemUnderTest[] = [];
  const skipped: Array<{ system: string; reason: string }> = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const system of systems) await system.stop().catch((error: unknown) => log(`could not stop ${system.name}: ${String(error)}`));
    await load.stop();
    await layout?.probe?.stop();
    await mock.process.stop();
  };
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping the processes this bench started');
    void stopAll().then(() => process.exit(130));
  });

  const startOptions: StartOptions = {
    repositoryRoot,
    mock,
    gatewayCores,
    loadCores,
    logLevel: options.logLevel,
    busyPollMicroseconds: options.busyPollMicroseconds,
    postgresUrl: options.postgresUrl,
    redisUrl: options.redisUrl,
  };
  try {
    for (const name of options.systems.filter((system) => wanted.has(system))) {
      const began = Date.now();
      try {
        const system = await startSystem(name, startOptions);
        systems.push(system);
        await smokeTest(system, mock);
        log(`  ${name}: ready in ${((Date.now() - began) / 1000).toFixed(1)} s — ${system.description}`);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (name === 'tollgate' || name === 'direct') throw error;
        log(`  ${name}: skipped (${reason})`);
        skipped.push({ system: name, reason });
      }
    }

    // A first warm-up per system, so that the first measured repetition does not pay for JIT compilation. The
    // fixed-rate scenario's open loop over 64 connections takes Node's HTTP and stream internals through object
    // shapes the closed loops do not: after 23,000 requests on one connection, the first 3,000 at 200 req/s still
    // deoptimised and recompiled them (V8's --trace-deopt: "wrong map" in Node's socket and parser code), with a
    // p99 of 3–5 ms for ~15 s before it settled at 1.5–2 ms. Every system gets the same pass through that pattern,
    // at five times the rate, so that the measurements see the gateways' steady state, as production traffic does.
    // Then `--rate-warmup` seconds at the measured rate itself: a gateway idling between requests runs code the
    // busier passes leave cold, and V8 went on optimising it for ~25 s (--trace-opt after a burst at 32 connections:
    // 168, 70, 36, 26 and 2 functions in five 5 s windows at 200 req/s, the p99 falling from 4.5 to 1.5 ms), its
    // compiler threads sharing the gateway's one pinned core with the requests. After 20 s there, the same windows
    // compiled 12, 8, 6, 4 and 0 functions, bursts in between included (the compiled code stays).
    for (const system of systems) {
      await load.run({ kind: 'throughput', target: targetFor(system, 'chat'), connections: options.connections, durationS: Math.max(0.5, options.warmupS * 2), loader: 'autocannon' });
      await load.run({ kind: 'throughput', target: targetFor(system, 'stream'), connections: options.connections, durationS: Math.max(0.25, options.warmupS), loader: 'autocannon' });
      if (scenarioList.some((scenario) => scenario.name === 'latency-rate' && (scenario.systems as string[]).includes(system.name))) {
        await load.run(fixedRateJob(targetFor(system, 'chat'), options.rate * 5, Math.max(0.5, options.warmupS * 3)));
        if (options.rateWarmupS > 0) await load.run(fixedRateJob(targetFor(system, 'chat'), options.rate, options.rateWarmupS));
      }
    }

    const measurements: Measurement[] = [];
    for (let repetition = 0; repetition < options.repetitions; repetition += 1) {
      for (const scenario of scenarioList) {
        const participants = systems.filter((system) => (scenario.systems as string[]).includes(system.name));
        // Rotate the order each repetition so that no system always runs first or right after another.
        const shift = participants.length === 0 ? 0 : repetition % participants.length;
        const ordered = [...participants.slice(shift), ...participants.slice(0, shift)];
        for (const system of ordered) {
          // Warm-ups go through autocannon, which takes fractions of a second (wrk only whole seconds).
          if (options.warmupS > 0) await load.run(jobFor(scenario, system, options, options.warmupS, 'autocannon'));
          const { result, gateway, machine } = await measure(load, system, jobFor(scenario, system, options, options.durationS, loader), layout);
          measurements.push({ scenario: scenario.name, system: system.name, repetition, result, ...(gateway ? { gateway } : {}), ...(machine ? { machine } : {}) });
          const cost = gateway ? `; gateway ${gateway.cpuMsPer1k} ms CPU/1k req, RSS ${gateway.rssMb} MB` : '';
          const noise = machine
            ? `; others on gateway core ${machine.otherOnGatewayCorePct}%, stolen ${machine.stolenFromGatewayCorePct ?? 0}%, load core ${machine.loadCoresBusyPct}% busy${machine.coreProbeUs !== undefined ? `, core probe ${machine.coreProbeUs} µs` : ''}`
            : '';
          const failures = result.failures > 0 ? `; ${result.failures} FAILED` : '';
          log(`[${repetition + 1}/${options.repetitions}] ${scenario.name} · ${system.name}: ${describe(result)}${cost}${noise}${failures}`);
        }
      }
    }

    const soakSummary =
      options.soakBlock > 0 && systems.some((system) => system.name === 'tollgate') ? await soak(load, startOptions, options) : undefined;

    const summaries = summarise(measurements, scenarioList);
    const report: Report = {
      meta: {
        date: new Date(started).toISOString(),
        elapsedS: Math.round((Date.now() - started) / 1000),
        commit: git('rev-parse', '--short', 'HEAD'),
        dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores,
        memoryGb: Math.round(os.totalmem() / 1024 ** 3),
        os: `${os.type()} ${os.release()}`,
        cpuIdle: cpuIdleBehaviour(),
        node: process.version,
        portkeyVersion: packageVersion(path.join(repositoryRoot, 'node_modules', '@portkey-ai', 'gateway', 'package.json')),
        autocannonVersion: packageVersion(path.join(repositoryRoot, 'node_modules', 'autocannon', 'package.json')),
        pinning: pinning ? `taskset: gateways on core ${gatewayCores}; mock, load generator and bench on core(s) ${loadCores}` : 'none',
        nice: options.nice,
        loader,
        quick: options.quick,
        repetitions: options.repetitions,
        durationS: options.durationS,
        warmupS: options.warmupS,
        rateWarmupS: options.rateWarmupS,
        connections: options.connections,
        rate: options.rate,
        delayMs: options.delayMs,
        chunkDelayMs: options.chunkDelayMs,
        logLevel: options.logLevel,
        busyPollMicroseconds: options.busyPollMicroseconds,
        tollgateNodeFlags: startCommand(repositoryRoot).flags,
        tollgateEnvironment: startCommand(repositoryRoot).environment,
        skipped,
        loadAtStart: loadAtStart.loadAverage,
        loadAtEnd: machineLoad().loadAverage,
      },
      systems: systems.map((system) => ({ name: system.name, description: system.description })),
      scenarios: summaries,
      soak: soakSummary,
      targets: checkTargets(summaries, soakSummary, options.rate, options.connections),
      measurements,
    };

    log(`\n${renderText(report)}\n`);
    const directory = path.resolve(repositoryRoot, options.outDirectory);
    mkdirSync(directory, { recursive: true });
    const stamp = new Date(started).toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
    const base = path.join(directory, `${stamp}${options.quick ? '-quick' : ''}${options.label ? `-${options.label}` : ''}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.md`, renderMarkdown(report));
    log(`results: ${path.relative(process.cwd(), base)}.json and .md (${report.meta.elapsedS} s)`);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
