/** Turns measurements into medians and ratios against direct and Portkey, and renders them with the target checks as a table and markdown. */
import { coreSpeedPercent } from './core-speed.js';
import type { SuiteResult } from './load-jobs.js';
import { formatNumber as fmt, median, round } from './stats.js';
import type { TargetCheck } from './target-checks.js';

export interface GatewaySample {
  /** CPU time of the gateway process per 1,000 requests (ms), i.e. µs per request. */
  cpuMsPer1k: number;
  rssMb: number;
}

/** What else the machine did during a measurement (pinned runs only). */
export interface MachineSample {
  /** CPU used on the gateway's core by processes other than the gateway, in % of that core (steal not included since 2026-12-06). */
  otherOnGatewayCorePct: number;
  /**
   * Steal time on the gateway's core, in % of that core: the hypervisor ran another guest while this one wanted the
   * core. Absent in older runs (which counted it in otherOnGatewayCorePct).
   */
  stolenFromGatewayCorePct?: number;
  /** How busy the mock and load generator's core(s) were, in %. */
  loadCoresBusyPct: number;
  /** Median CPU µs of the core speed probe's fixed work on the gateway's core during the measurement; absent in older runs. */
  coreProbeUs?: number;
}

export interface Measurement {
  scenario: string;
  system: string;
  repetition: number;
  result: SuiteResult;
  gateway?: GatewaySample;
  machine?: MachineSample;
}

/** The metrics of one measurement, flat, so that medians and ratios can be taken key by key. */
export type Metrics = Record<string, number>;

/** The fastest core speed probe of a run (µs), the 100 % of its core speeds; undefined when none was taken. */
export function fastestProbeUs(measurements: Measurement[]): number | undefined {
  const probes = measurements.map((measurement) => measurement.machine?.coreProbeUs).filter((value): value is number => value !== undefined && value > 0);
  return probes.length > 0 ? Math.min(...probes) : undefined;
}

/** @param fastestUs the run's fastest core probe, to express this measurement's core speed against it */
export function metricsOf(measurement: Measurement, fastestUs?: number): Metrics {
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
    if (measurement.machine.stolenFromGatewayCorePct !== undefined) metrics.stolenPct = measurement.machine.stolenFromGatewayCorePct;
    const probe = measurement.machine.coreProbeUs;
    if (probe !== undefined && probe > 0 && fastestUs !== undefined) metrics.coreSpeedPct = coreSpeedPercent(probe, fastestUs);
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
  kind: SuiteResult['kind'];
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
  const fastest = fastestProbeUs(measurements);
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
        const all = runs.map((run) => metricsOf(run, fastest));
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

function columnsFor(kind: SuiteResult['kind']): Array<{ title: string; value: (summary: SystemSummary) => string }> {
  const cpu = { title: 'CPU ms/1k req', value: (s: SystemSummary) => fmt(s.median.cpuMsPer1k, 0) };
  const rss = { title: 'RSS MB', value: (s: SystemSummary) => fmt(s.median.rssMb, 0) };
  const failures = { title: 'failed', value: (s: SystemSummary) => fmt(s.median.failures, 0) };
  const noise = { title: 'other load on gw core %', value: (s: SystemSummary) => fmt(s.median.otherOnGatewayCorePct, 0) };
  const loadCore = { title: 'load core busy %', value: (s: SystemSummary) => fmt(s.median.loadCoresBusyPct, 0) };
  const coreSpeed = { title: 'gw core speed %', value: (s: SystemSummary) => fmt(s.median.coreSpeedPct, 0) };
  const stolen = { title: 'gw core stolen %', value: (s: SystemSummary) => fmt(s.median.stolenPct, 0) };
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
      coreSpeed,
      stolen,
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
      coreSpeed,
      stolen,
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
    coreSpeed,
    stolen,
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

/**
 * One line on how fast the gateway's core was across the run's measurements, or undefined for a run without the
 * probe (unpinned, or recorded before it existed).
 */
export function coreSpeedLine(measurements: Measurement[]): string | undefined {
  const fastest = fastestProbeUs(measurements);
  if (fastest === undefined) return undefined;
  const speeds = measurements.map((measurement) => metricsOf(measurement, fastest).coreSpeedPct).filter((value): value is number => value !== undefined);
  const slow = speeds.filter((speed) => speed < 85).length;
  const stolen = measurements.map((measurement) => measurement.machine?.stolenFromGatewayCorePct).filter((value): value is number => value !== undefined);
  return (
    `gateway core speed (a fixed piece of work timed on the gateway's core during each measurement, against the run's fastest, ${fastest} µs): ` +
    `${fmt(Math.min(...speeds), 0)}–${fmt(Math.max(...speeds), 0)} %, median ${fmt(median(speeds), 0)} %; ${slow} of ${speeds.length} measurements below 85 %` +
    (stolen.length > 0 ? `; steal time on that core ${fmt(Math.min(...stolen), 0)}–${fmt(Math.max(...stolen), 0)} %, median ${fmt(median(stolen), 0)} %` : '')
  );
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
  const speed = coreSpeedLine(report.measurements);
  if (speed) parts.push(speed);
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
    `- runs: ${String(meta.repetitions)} repetition(s) of ${String(meta.durationS)} s after ${String(meta.warmupS)} s warm-up, systems alternated; medians shown${meta.rateWarmupS !== undefined ? `; ${String(meta.rateWarmupS)} s at the fixed rate per system before the first` : ''}`,
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
    '"gw core stolen %" = steal time on the gateway\'s core: the hypervisor ran another guest while this one wanted the core (0 where the host hides it);',
    '"load core busy %" = how busy the mock and load generator\'s core was (near 100 % the client side, not the gateway, set the pace).',
    '"gw core speed %" = how fast the gateway\'s core did a fixed piece of work during the measurement (every 100 ms), against the fastest in the run',
    '(a shared VM slows down for minutes at a time, which CPU time per request alone cannot tell from a slower build).',
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
  const speed = coreSpeedLine(report.measurements);
  if (speed) lines.push(speed, '');
  return lines.join('\n');
}
