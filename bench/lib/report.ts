/** Turns measurements into medians, ratios against direct and Portkey, target checks, a table and markdown. */
import type { LoadResult } from './load-jobs.js';
import { median, round } from './stats.js';

export interface GatewaySample {
  /** CPU time of the gateway process per 1,000 requests (ms), i.e. µs per request. */
  cpuMsPer1k: number;
  rssMb: number;
}

/** What else the machine did during a measurement (pinned runs only). */
export interface MachineSample {
  /** CPU used on the gateway's core by processes other than the gateway, in % of that core. */
  otherOnGatewayCorePct: number;
  /** How busy the mock and load generator's core(s) were, in %. */
  loadCoresBusyPct: number;
}

export interface Measurement {
  scenario: string;
  system: string;
  repetition: number;
  result: LoadResult;
  gateway?: GatewaySample;
  machine?: MachineSample;
}

/** The metrics of one measurement, flat, so that medians and ratios can be taken key by key. */
export type Metrics = Record<string, number>;

export function metricsOf(measurement: Measurement): Metrics {
  const { result, gateway } = measurement;
  const metrics: Metrics = { failures: result.failures, requests: result.requests };
  if (result.kind === 'throughput') {
    metrics.rps = result.requestsPerSecond;
    metrics.p50 = result.latencyMs.p50;
    metrics.p99 = result.latencyMs.p99;
  } else if (result.kind === 'latency') {
    metrics.rps = result.requests / result.seconds;
    metrics.p50 = result.latencyMs.p50;
    metrics.p99 = result.latencyMs.p99;
    metrics.p999 = result.latencyMs.p999;
  } else {
    metrics.rps = result.requests / result.seconds;
    metrics.ttfbP50 = result.firstByteMs.p50;
    metrics.ttfbP99 = result.firstByteMs.p99;
    metrics.ttlbP50 = result.lastByteMs.p50;
    metrics.ttlbP99 = result.lastByteMs.p99;
  }
  if (gateway) {
    metrics.cpuMsPer1k = gateway.cpuMsPer1k;
    metrics.rssMb = gateway.rssMb;
    // What one whole core would serve at this CPU cost: robust to a pace set by a busy client core.
    if (gateway.cpuMsPer1k > 0) metrics.cpuBoundRps = 1_000_000 / gateway.cpuMsPer1k;
  }
  if (measurement.machine) {
    metrics.otherOnGatewayCorePct = measurement.machine.otherOnGatewayCorePct;
    metrics.loadCoresBusyPct = measurement.machine.loadCoresBusyPct;
  }
  return metrics;
}

export interface SystemSummary {
  system: string;
  repetitions: number;
  /** Median of each metric over the repetitions. */
  median: Metrics;
  /** Per-repetition differences to direct (ms), for latency metrics; median over repetitions. */
  addedMs: Metrics;
  /** Median over repetitions of this system's value / direct's value in the same repetition. */
  vsDirect: Metrics;
  /** The same against Portkey. */
  vsPortkey: Metrics;
}

export interface ScenarioSummary {
  scenario: string;
  description: string;
  kind: LoadResult['kind'];
  systems: SystemSummary[];
}

const latencyKeys = ['p50', 'p99', 'p999', 'ttfbP50', 'ttfbP99', 'ttlbP50', 'ttlbP99'];
const ratioKeys = ['rps', 'p50', 'p99', 'ttfbP50', 'ttlbP50', 'cpuMsPer1k', 'cpuBoundRps'];

function paired(own: Measurement[], reference: Measurement[], key: string, combine: (a: number, b: number) => number): number {
  const values: number[] = [];
  for (const measurement of own) {
    const other = reference.find((candidate) => candidate.repetition === measurement.repetition);
    if (!other) continue;
    const a = metricsOf(measurement)[key];
    const b = metricsOf(other)[key];
    if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) values.push(combine(a, b));
  }
  return median(values);
}

export function summarise(measurements: Measurement[], scenarios: Array<{ name: string; description: string }>): ScenarioSummary[] {
  const summaries: ScenarioSummary[] = [];
  for (const scenario of scenarios) {
    const own = measurements.filter((measurement) => measurement.scenario === scenario.name);
    if (own.length === 0) continue;
    const systems = [...new Set(own.map((measurement) => measurement.system))];
    const bySystem = (system: string) => own.filter((measurement) => measurement.system === system);
    const direct = bySystem('direct');
    const portkey = bySystem('portkey');
    summaries.push({
      scenario: scenario.name,
      description: scenario.description,
      kind: own[0]!.result.kind,
      systems: systems.map((system) => {
        const runs = bySystem(system);
        const all = runs.map(metricsOf);
        const keys = [...new Set(all.flatMap((metrics) => Object.keys(metrics)))];
        const summary: SystemSummary = { system, repetitions: runs.length, median: {}, addedMs: {}, vsDirect: {}, vsPortkey: {} };
        for (const key of keys) summary.median[key] = round(median(all.map((metrics) => metrics[key])), 4);
        if (system !== 'direct' && direct.length > 0) {
          for (const key of latencyKeys.filter((name) => keys.includes(name))) summary.addedMs[key] = round(paired(runs, direct, key, (a, b) => a - b), 4);
          for (const key of ratioKeys.filter((name) => keys.includes(name))) summary.vsDirect[key] = round(paired(runs, direct, key, (a, b) => a / b), 3);
        }
        if (system !== 'portkey' && system !== 'direct' && portkey.length > 0) {
          for (const key of ratioKeys.filter((name) => keys.includes(name))) summary.vsPortkey[key] = round(paired(runs, portkey, key, (a, b) => a / b), 3);
        }
        return summary;
      }),
    });
  }
  return summaries;
}

export interface SoakBlock {
  requests: number;
  requestsPerSecond: number;
  rssMb: number;
  cpuMsPer1k: number;
  failures: number;
}

export interface SoakSummary {
  blocks: SoakBlock[];
  totalRequests: number;
  rssAfterMb: number;
  /** RSS after the 5th block minus RSS after the 2nd (MB). */
  growthMb: number;
}

export interface TargetCheck {
  target: string;
  goal: string;
  measured: string;
  pass: boolean | undefined;
}

function find(summaries: ScenarioSummary[], scenario: string, system: string): SystemSummary | undefined {
  return summaries.find((summary) => summary.scenario === scenario)?.systems.find((entry) => entry.system === system);
}

const fmt = (value: number | undefined, digits = 3) => (value === undefined || !Number.isFinite(value) ? 'n/a' : String(round(value, digits)));
const check = (value: number | undefined, ok: (value: number) => boolean) => (value === undefined || !Number.isFinite(value) ? undefined : ok(value));
/** Met when every part is met; unknown when a part was not measured. */
const allOf = (...parts: Array<boolean | undefined>) => (parts.includes(undefined) ? undefined : parts.every(Boolean));

/** Issue 6's targets against this run (Tollgate on the embedded store unless said otherwise). */
export function checkTargets(summaries: ScenarioSummary[], soak: SoakSummary | undefined, rate: number, connections: number): TargetCheck[] {
  const latency = find(summaries, 'latency-1conn', 'tollgate');
  const atRate = find(summaries, 'latency-rate', 'tollgate');
  // What the thinnest Node proxy added in the same run, when it was measured: the machine's share of the latency.
  const floorParts = (own: SystemSummary | undefined, floor: SystemSummary | undefined, key: string): string[] => {
    const ownAdded = own?.addedMs[key];
    const floorAdded = floor?.addedMs[key];
    if (ownAdded === undefined || floorAdded === undefined) return [];
    return [`node:http proxy +${fmt(floorAdded)} ms`, `Tollgate over it +${fmt(ownAdded - floorAdded)} ms`];
  };
  const overFloor = (own: SystemSummary | undefined, floor: SystemSummary | undefined, key: string): string => {
    const parts = floorParts(own, floor, key);
    return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
  };
  const floor = find(summaries, 'latency-1conn', 'node-proxy');
  const floorAtRate = find(summaries, 'latency-rate', 'node-proxy');
  const throughput = find(summaries, 'throughput', 'tollgate');
  const stream = find(summaries, 'stream-throughput', 'tollgate');
  const streamLatency = find(summaries, 'stream-latency', 'tollgate');
  const checks: TargetCheck[] = [
    {
      target: 'added latency, one connection, p50',
      goal: '≤ 0.30 ms',
      measured: `${fmt(latency?.addedMs.p50)} ms${overFloor(latency, floor, 'p50')}`,
      pass: check(latency?.addedMs.p50, (value) => value <= 0.3),
    },
    {
      target: `added latency at ${rate} req/s, p50`,
      goal: '≤ 0.80 ms',
      measured: `${fmt(atRate?.addedMs.p50)} ms${overFloor(atRate, floorAtRate, 'p50')}`,
      pass: check(atRate?.addedMs.p50, (value) => value <= 0.8),
    },
    {
      target: `added latency at ${rate} req/s, p99`,
      goal: '≤ 2 ms',
      measured: `${fmt(atRate?.addedMs.p99)} ms (${[`Tollgate p99 ${fmt(atRate?.median.p99)} ms`, ...floorParts(atRate, floorAtRate, 'p99')].join('; ')})`,
      pass: check(atRate?.addedMs.p99, (value) => value <= 2),
    },
    ...pollingChecks(summaries, rate),
    {
      target: `non-streaming throughput, one core, concurrency ${connections}`,
      goal: '≥ 5,000 req/s',
      measured: `${fmt(throughput?.median.rps, 0)} req/s (${fmt(throughput?.median.cpuBoundRps, 0)} req/s per core from CPU time)`,
      pass: check(throughput?.median.rps, (value) => value >= 5000),
    },
    {
      target: 'non-streaming throughput vs Portkey',
      goal: '≥ 7×',
      measured: `${fmt(throughput?.vsPortkey.rps, 2)}× (${fmt(throughput?.vsPortkey.cpuBoundRps, 2)}× per core from CPU time)`,
      pass: check(throughput?.vsPortkey.rps, (value) => value >= 7),
    },
    {
      target: `streaming throughput, one core, concurrency ${connections}`,
      goal: '≥ 3,000 req/s',
      measured: `${fmt(stream?.median.rps, 0)} req/s (${fmt(stream?.median.cpuBoundRps, 0)} req/s per core from CPU time)`,
      pass: check(stream?.median.rps, (value) => value >= 3000),
    },
    {
      target: 'streaming throughput vs Portkey',
      goal: '≥ 7×',
      measured: `${fmt(stream?.vsPortkey.rps, 2)}× (${fmt(stream?.vsPortkey.cpuBoundRps, 2)}× per core from CPU time)`,
      pass: check(stream?.vsPortkey.rps, (value) => value >= 7),
    },
    {
      target: 'CPU per non-streamed request (throughput scenario)',
      goal: '≤ 200 µs',
      measured: `${fmt(throughput?.median.cpuMsPer1k, 0)} µs`,
      pass: check(throughput?.median.cpuMsPer1k, (value) => value <= 200),
    },
    {
      target: 'streaming first-byte overhead, p50',
      goal: '≤ 0.5 ms',
      measured: `${fmt(streamLatency?.addedMs.ttfbP50)} ms`,
      pass: check(streamLatency?.addedMs.ttfbP50, (value) => value <= 0.5),
    },
  ];
  checks.push(...postgresChecks(summaries, rate, connections));
  if (soak) {
    checks.push(
      {
        target: `RSS after ${soak.totalRequests.toLocaleString('en-US')} requests`,
        goal: '≤ 150 MB',
        measured: `${fmt(soak.rssAfterMb, 1)} MB`,
        pass: soak.totalRequests >= 100_000 ? soak.rssAfterMb <= 150 : undefined,
      },
      {
        target: 'RSS growth, 2nd to 5th block',
        goal: 'none',
        measured: `${fmt(soak.growthMb, 1)} MB (blocks 2–5 ranged ${fmt(Math.min(...soak.blocks.slice(1).map((block) => block.rssMb)), 1)}–${fmt(Math.max(...soak.blocks.slice(1).map((block) => block.rssMb)), 1)} MB)`,
        // Allocator noise of a few MB is not growth; a leak shows as a steady climb across blocks.
        pass: soak.totalRequests >= 100_000 ? soak.growthMb <= 5 : undefined,
      },
    );
  }
  return checks;
}

/**
 * Issue 6's "the same within 1.5× with PostgreSQL + Redis configured": each target of `tollgate-pg`'s scenarios
 * with its bound loosened by half (latencies and CPU × 1.5, throughput and ratios ÷ 1.5), when that system ran.
 */
function postgresChecks(summaries: ScenarioSummary[], rate: number, connections: number): TargetCheck[] {
  const serial = find(summaries, 'latency-1conn', 'tollgate-pg');
  const atRate = find(summaries, 'latency-rate', 'tollgate-pg');
  const throughput = find(summaries, 'throughput', 'tollgate-pg');
  const stream = find(summaries, 'stream-throughput', 'tollgate-pg');
  const checks: TargetCheck[] = [];
  if (serial) {
    checks.push({
      target: 'PostgreSQL + Redis: added latency, one connection, p50',
      goal: '≤ 0.45 ms',
      measured: `${fmt(serial.addedMs.p50)} ms`,
      pass: check(serial.addedMs.p50, (value) => value <= 0.45),
    });
  }
  if (atRate) {
    checks.push({
      target: `PostgreSQL + Redis: added latency at ${rate} req/s, p50 / p99`,
      goal: '≤ 1.20 / 3 ms',
      measured: `${fmt(atRate.addedMs.p50)} / ${fmt(atRate.addedMs.p99)} ms`,
      pass: allOf(check(atRate.addedMs.p50, (value) => value <= 1.2), check(atRate.addedMs.p99, (value) => value <= 3)),
    });
  }
  if (throughput) {
    checks.push(
      {
        target: `PostgreSQL + Redis: non-streaming throughput, concurrency ${connections}, and vs Portkey`,
        goal: '≥ 3,333 req/s, ≥ 4.67×',
        measured: `${fmt(throughput.median.rps, 0)} req/s, ${fmt(throughput.vsPortkey.rps, 2)}×`,
        pass: allOf(check(throughput.median.rps, (value) => value >= 5000 / 1.5), check(throughput.vsPortkey.rps, (value) => value >= 7 / 1.5)),
      },
      {
        target: 'PostgreSQL + Redis: CPU per non-streamed request',
        goal: '≤ 300 µs',
        measured: `${fmt(throughput.median.cpuMsPer1k, 0)} µs`,
        pass: check(throughput.median.cpuMsPer1k, (value) => value <= 300),
      },
    );
  }
  if (stream) {
    checks.push({
      target: `PostgreSQL + Redis: streaming throughput, concurrency ${connections}, and vs Portkey`,
      goal: '≥ 2,000 req/s, ≥ 4.67×',
      measured: `${fmt(stream.median.rps, 0)} req/s, ${fmt(stream.vsPortkey.rps, 2)}×`,
      pass: allOf(check(stream.median.rps, (value) => value >= 3000 / 1.5), check(stream.vsPortkey.rps, (value) => value >= 7 / 1.5)),
    });
  }
  return checks;
}

/** The latency targets again for Tollgate with busy polling on (`tollgate-poll`), when that system was measured. */
function pollingChecks(summaries: ScenarioSummary[], rate: number): TargetCheck[] {
  const serial = find(summaries, 'latency-1conn', 'tollgate-poll');
  const atRate = find(summaries, 'latency-rate', 'tollgate-poll');
  const stream = find(summaries, 'stream-latency', 'tollgate-poll');
  const checks: TargetCheck[] = [];
  if (serial) {
    checks.push({
      target: 'the same with busy polling on (tollgate-poll)',
      goal: '≤ 0.30 ms',
      measured: `${fmt(serial.addedMs.p50)} ms (CPU ${fmt(serial.median.cpuMsPer1k, 0)} µs per request)`,
      pass: check(serial.addedMs.p50, (value) => value <= 0.3),
    });
  }
  if (atRate) {
    checks.push({
      target: `added latency at ${rate} req/s, p50 / p99, busy polling on`,
      goal: '≤ 0.80 / 2 ms',
      measured: `${fmt(atRate.addedMs.p50)} / ${fmt(atRate.addedMs.p99)} ms (CPU ${fmt(atRate.median.cpuMsPer1k, 0)} µs per request)`,
      pass: allOf(check(atRate.addedMs.p50, (value) => value <= 0.8), check(atRate.addedMs.p99, (value) => value <= 2)),
    });
  }
  if (stream) {
    checks.push({
      target: 'streaming first-byte overhead, p50, busy polling on',
      goal: '≤ 0.5 ms',
      measured: `${fmt(stream.addedMs.ttfbP50)} ms`,
      pass: check(stream.addedMs.ttfbP50, (value) => value <= 0.5),
    });
  }
  return checks;
}

function columnsFor(kind: LoadResult['kind']): Array<{ title: string; value: (summary: SystemSummary) => string }> {
  const cpu = { title: 'CPU ms/1k req', value: (s: SystemSummary) => fmt(s.median.cpuMsPer1k, 0) };
  const rss = { title: 'RSS MB', value: (s: SystemSummary) => fmt(s.median.rssMb, 0) };
  const failures = { title: 'failed', value: (s: SystemSummary) => fmt(s.median.failures, 0) };
  const noise = { title: 'other load on gw core %', value: (s: SystemSummary) => fmt(s.median.otherOnGatewayCorePct, 0) };
  const loadCore = { title: 'load core busy %', value: (s: SystemSummary) => fmt(s.median.loadCoresBusyPct, 0) };
  if (kind === 'throughput') {
    return [
      { title: 'req/s', value: (s) => fmt(s.median.rps, 0) },
      { title: 'p50 ms', value: (s) => fmt(s.median.p50, 2) },
      { title: 'p99 ms', value: (s) => fmt(s.median.p99, 2) },
      { title: '÷ direct', value: (s) => fmt(s.vsDirect.rps, 2) },
      { title: '÷ Portkey', value: (s) => fmt(s.vsPortkey.rps, 2) },
      { title: 'req/s per core (from CPU)', value: (s) => fmt(s.median.cpuBoundRps, 0) },
      { title: 'CPU ÷ Portkey', value: (s) => fmt(s.vsPortkey.cpuMsPer1k, 2) },
      cpu,
      rss,
      failures,
      noise,
      loadCore,
    ];
  }
  if (kind === 'latency') {
    return [
      { title: 'p50 ms', value: (s) => fmt(s.median.p50, 3) },
      { title: 'p99 ms', value: (s) => fmt(s.median.p99, 3) },
      { title: 'added p50 ms', value: (s) => fmt(s.addedMs.p50, 3) },
      { title: 'added p99 ms', value: (s) => fmt(s.addedMs.p99, 3) },
      { title: 'p50 ÷ direct', value: (s) => fmt(s.vsDirect.p50, 2) },
      { title: 'p50 ÷ Portkey', value: (s) => fmt(s.vsPortkey.p50, 2) },
      { title: 'req/s', value: (s) => fmt(s.median.rps, 0) },
      cpu,
      rss,
      failures,
      noise,
      loadCore,
    ];
  }
  return [
    { title: 'first byte p50 ms', value: (s) => fmt(s.median.ttfbP50, 3) },
    { title: 'first byte p99 ms', value: (s) => fmt(s.median.ttfbP99, 3) },
    { title: 'last byte p50 ms', value: (s) => fmt(s.median.ttlbP50, 3) },
    { title: 'last byte p99 ms', value: (s) => fmt(s.median.ttlbP99, 3) },
    { title: 'added first byte p50 ms', value: (s) => fmt(s.addedMs.ttfbP50, 3) },
    { title: 'added last byte p50 ms', value: (s) => fmt(s.addedMs.ttlbP50, 3) },
    { title: 'first byte ÷ Portkey', value: (s) => fmt(s.vsPortkey.ttfbP50, 3) },
    cpu,
    rss,
    failures,
    noise,
    loadCore,
  ];
}

function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function plainTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: string[]) => cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

function scenarioRows(summary: ScenarioSummary): { header: string[]; rows: string[][] } {
  const columns = columnsFor(summary.kind);
  return {
    header: ['system', ...columns.map((column) => column.title)],
    rows: summary.systems.map((system) => [system.system, ...columns.map((column) => column.value(system))]),
  };
}

function soakRows(soak: SoakSummary): { header: string[]; rows: string[][] } {
  return {
    header: ['block', 'requests', 'req/s', 'RSS MB after', 'CPU ms/1k req', 'failed'],
    rows: soak.blocks.map((block, index) => [
      String(index + 1),
      String(block.requests),
      fmt(block.requestsPerSecond, 0),
      fmt(block.rssMb, 1),
      fmt(block.cpuMsPer1k, 0),
      String(block.failures),
    ]),
  };
}

function targetRows(checks: TargetCheck[]): { header: string[]; rows: string[][] } {
  return {
    header: ['target', 'goal', 'measured', 'met'],
    rows: checks.map((entry) => [entry.target, entry.goal, entry.measured, entry.pass === undefined ? 'n/a' : entry.pass ? 'yes' : 'NO']),
  };
}

export interface Report {
  meta: Record<string, unknown>;
  systems: Array<{ name: string; description: string }>;
  scenarios: ScenarioSummary[];
  soak: SoakSummary | undefined;
  targets: TargetCheck[];
  measurements: Measurement[];
}

/** The report as text for the terminal. */
export function renderText(report: Report): string {
  const parts: string[] = [];
  for (const summary of report.scenarios) {
    const { header, rows } = scenarioRows(summary);
    parts.push(`${summary.scenario}: ${summary.description}\n${plainTable(header, rows)}`);
  }
  if (report.soak) {
    const { header, rows } = soakRows(report.soak);
    parts.push(`soak (Tollgate, fresh process, concurrency ${String(report.meta.connections)})\n${plainTable(header, rows)}`);
  }
  const { header, rows } = targetRows(report.targets);
  parts.push(`targets (issue 6)\n${plainTable(header, rows)}`);
  return parts.join('\n\n');
}

/** The report as markdown for bench/results/. */
export function renderMarkdown(report: Report): string {
  const meta = report.meta;
  const lines: string[] = [
    `# Tollgate benchmark — ${String(meta.date)}`,
    '',
    `- machine: ${String(meta.cpu)}, ${String(meta.cores)} cores, ${String(meta.memoryGb)} GB; ${String(meta.os)}; Node ${String(meta.node)}${meta.cpuIdle ? `; ${String(meta.cpuIdle)}` : ''}`,
    `- commit: ${String(meta.commit)}${meta.dirty ? ' (working tree had uncommitted changes)' : ''}`,
    `- pinning: ${String(meta.pinning)}; nice ${String(meta.nice ?? 0)}`,
    `- load: ${String(meta.loader)} for the closed-loop scenarios; the bench's undici client for latency and streams`,
    `- runs: ${String(meta.repetitions)} repetition(s) of ${String(meta.durationS)} s after ${String(meta.warmupS)} s warm-up, systems alternated; medians shown`,
    `- mock: delay ${String(meta.delayMs)} ms, chunk delay ${String(meta.chunkDelayMs)} ms, 20 content chunks + finish + usage per stream`,
    `- Tollgate: ${Object.entries((meta.tollgateEnvironment ?? {}) as Record<string, string>).map(([name, value]) => `${name}=${value} `).join('')}node ${Array.isArray(meta.tollgateNodeFlags) && meta.tollgateNodeFlags.length > 0 ? `${meta.tollgateNodeFlags.join(' ')} ` : ''}dist/index.js, LOG_LEVEL=${String(meta.logLevel)}, API key with USD/token/request limits and rpm/tpm/concurrency limits`,
    `- load average at start / end: ${JSON.stringify(meta.loadAtStart)} / ${JSON.stringify(meta.loadAtEnd)}`,
    '',
    'Systems:',
    '',
    ...report.systems.map((system) => `- \`${system.name}\`: ${system.description}`),
    '',
    '"added" = system − direct in the same repetition; "÷" = ratio to direct or Portkey in the same repetition;',
    'CPU ms/1k req = the gateway process\'s user+system CPU time per 1,000 requests (= µs per request); RSS after the measurement.',
    '"req/s per core (from CPU)" = 1,000,000 / CPU µs per request: what one fully available core would serve at that cost.',
    'autocannon resolves latency in whole milliseconds; the latency and stream scenarios use the bench\'s own client (µs resolution).',
    '"other load on gw core %" = CPU used on the gateway\'s core by other processes during the measurement (noise);',
    '"load core busy %" = how busy the mock and load generator\'s core was (near 100 % the client side, not the gateway, set the pace).',
    '',
  ];
  for (const summary of report.scenarios) {
    const { header, rows } = scenarioRows(summary);
    lines.push(`## ${summary.scenario}`, '', summary.description, '', markdownTable(header, rows), '');
  }
  if (report.soak) {
    const { header, rows } = soakRows(report.soak);
    lines.push('## soak', '', `Tollgate (embedded store), a fresh process, five blocks at concurrency ${String(meta.connections)}.`, '', markdownTable(header, rows), '');
  }
  const { header, rows } = targetRows(report.targets);
  lines.push('## targets (issue 6)', '', markdownTable(header, rows), '');
  return lines.join('\n');
}
