/** Issue 6's targets, judged against a run's summaries (bench/lib/report.ts makes them). */
import type { ScenarioSummary, SoakSummary, SystemSummary } from './report.js';
import { formatNumber as fmt } from './stats.js';

export interface TargetCheck {
  target: string;
  goal: string;
  measured: string;
  pass: boolean | undefined;
}

function find(summaries: ScenarioSummary[], scenario: string, system: string): SystemSummary | undefined {
  return summaries.find((summary) => summary.scenario === scenario)?.systems.find((entry) => entry.system === system);
}

/** Issue 6's bounds for Tollgate on the embedded store; the busy-polling rows repeat them, PostgreSQL + Redis loosens them. */
const goals = {
  oneConnectionMs: 0.3,
  atRateP50Ms: 0.8,
  atRateP99Ms: 2,
  firstByteMs: 0.5,
  requestsPerSecond: 5000,
  streamsPerSecond: 3000,
  cpuUs: 200,
  vsPortkey: 7,
  rssMb: 150,
} as const;

/** "The same within 1.5× with PostgreSQL + Redis configured": latencies and CPU × 1.5, throughput and ratios ÷ 1.5. */
const postgresLeeway = 1.5;

/** A bound as the goal column shows it: whole numbers as they are, others with two decimals. */
const bound = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(2));
/** A requests/s bound, in whole requests with thousands separators. */
const perSecond = (value: number): string => Math.floor(value).toLocaleString('en-US');

/** A difference with its sign: +0.2, −0.4 (a percentile of Tollgate's can fall below the proxy's in one run). */
const signed = (value: number): string => (value < 0 ? `−${fmt(-value)}` : `+${fmt(value)}`);

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
    return [`node:http proxy ${signed(floorAdded)} ms`, `Tollgate over it ${signed(ownAdded - floorAdded)} ms`];
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
      goal: `≤ ${bound(goals.oneConnectionMs)} ms`,
      measured: `${fmt(latency?.addedMs.p50)} ms${overFloor(latency, floor, 'p50')}`,
      pass: check(latency?.addedMs.p50, (value) => value <= goals.oneConnectionMs),
    },
    {
      target: `added latency at ${rate} req/s, p50`,
      goal: `≤ ${bound(goals.atRateP50Ms)} ms`,
      measured: `${fmt(atRate?.addedMs.p50)} ms${overFloor(atRate, floorAtRate, 'p50')}`,
      pass: check(atRate?.addedMs.p50, (value) => value <= goals.atRateP50Ms),
    },
    {
      target: `added latency at ${rate} req/s, p99`,
      goal: `≤ ${bound(goals.atRateP99Ms)} ms`,
      measured: `${fmt(atRate?.addedMs.p99)} ms (${[`Tollgate p99 ${fmt(atRate?.median.p99)} ms`, ...floorParts(atRate, floorAtRate, 'p99')].join('; ')})`,
      pass: check(atRate?.addedMs.p99, (value) => value <= goals.atRateP99Ms),
    },
    ...pollingChecks(summaries, rate),
    ...throughputChecks('non-streaming', throughput, goals.requestsPerSecond, connections),
    ...throughputChecks('streaming', stream, goals.streamsPerSecond, connections),
    {
      target: 'CPU per non-streamed request (throughput scenario)',
      goal: `≤ ${bound(goals.cpuUs)} µs`,
      measured: `${fmt(throughput?.median.cpuMsPer1k, 0)} µs`,
      pass: check(throughput?.median.cpuMsPer1k, (value) => value <= goals.cpuUs),
    },
    {
      target: 'streaming first-byte overhead, p50',
      goal: `≤ ${bound(goals.firstByteMs)} ms`,
      measured: `${fmt(streamLatency?.addedMs.ttfbP50)} ms`,
      pass: check(streamLatency?.addedMs.ttfbP50, (value) => value <= goals.firstByteMs),
    },
  ];
  checks.push(...postgresChecks(summaries, rate, connections));
  if (soak) {
    checks.push(
      {
        target: `RSS after ${soak.totalRequests.toLocaleString('en-US')} requests`,
        goal: `≤ ${bound(goals.rssMb)} MB`,
        measured: `${fmt(soak.rssAfterMb, 1)} MB`,
        pass: soak.totalRequests >= 100_000 ? soak.rssAfterMb <= goals.rssMb : undefined,
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

/** The two rows of a throughput scenario: requests/s on one core, and the ratio to Portkey in the same repetition. */
function throughputChecks(kind: 'non-streaming' | 'streaming', summary: SystemSummary | undefined, minimum: number, connections: number): TargetCheck[] {
  return [
    {
      target: `${kind} throughput, one core, concurrency ${connections}`,
      goal: `≥ ${perSecond(minimum)} req/s`,
      measured: `${fmt(summary?.median.rps, 0)} req/s (${fmt(summary?.median.cpuBoundRps, 0)} req/s per core from CPU time)`,
      pass: check(summary?.median.rps, (value) => value >= minimum),
    },
    {
      target: `${kind} throughput vs Portkey`,
      goal: `≥ ${bound(goals.vsPortkey)}×`,
      measured: `${fmt(summary?.vsPortkey.rps, 2)}× (${fmt(summary?.vsPortkey.cpuBoundRps, 2)}× per core from CPU time)`,
      pass: check(summary?.vsPortkey.rps, (value) => value >= goals.vsPortkey),
    },
  ];
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
  const slower = (value: number) => value * postgresLeeway;
  const fewer = (value: number) => value / postgresLeeway;
  const checks: TargetCheck[] = [];
  if (serial) {
    checks.push({
      target: 'PostgreSQL + Redis: added latency, one connection, p50',
      goal: `≤ ${bound(slower(goals.oneConnectionMs))} ms`,
      measured: `${fmt(serial.addedMs.p50)} ms`,
      pass: check(serial.addedMs.p50, (value) => value <= slower(goals.oneConnectionMs)),
    });
  }
  if (atRate) {
    checks.push({
      target: `PostgreSQL + Redis: added latency at ${rate} req/s, p50 / p99`,
      goal: `≤ ${bound(slower(goals.atRateP50Ms))} / ${bound(slower(goals.atRateP99Ms))} ms`,
      measured: `${fmt(atRate.addedMs.p50)} / ${fmt(atRate.addedMs.p99)} ms`,
      pass: allOf(check(atRate.addedMs.p50, (value) => value <= slower(goals.atRateP50Ms)), check(atRate.addedMs.p99, (value) => value <= slower(goals.atRateP99Ms))),
    });
  }
  if (throughput) {
    checks.push(
      {
        target: `PostgreSQL + Redis: non-streaming throughput, concurrency ${connections}, and vs Portkey`,
        goal: `≥ ${perSecond(fewer(goals.requestsPerSecond))} req/s, ≥ ${bound(fewer(goals.vsPortkey))}×`,
        measured: `${fmt(throughput.median.rps, 0)} req/s, ${fmt(throughput.vsPortkey.rps, 2)}×`,
        pass: allOf(check(throughput.median.rps, (value) => value >= fewer(goals.requestsPerSecond)), check(throughput.vsPortkey.rps, (value) => value >= fewer(goals.vsPortkey))),
      },
      {
        target: 'PostgreSQL + Redis: CPU per non-streamed request',
        goal: `≤ ${bound(slower(goals.cpuUs))} µs`,
        measured: `${fmt(throughput.median.cpuMsPer1k, 0)} µs`,
        pass: check(throughput.median.cpuMsPer1k, (value) => value <= slower(goals.cpuUs)),
      },
    );
  }
  if (stream) {
    checks.push({
      target: `PostgreSQL + Redis: streaming throughput, concurrency ${connections}, and vs Portkey`,
      goal: `≥ ${perSecond(fewer(goals.streamsPerSecond))} req/s, ≥ ${bound(fewer(goals.vsPortkey))}×`,
      measured: `${fmt(stream.median.rps, 0)} req/s, ${fmt(stream.vsPortkey.rps, 2)}×`,
      pass: allOf(check(stream.median.rps, (value) => value >= fewer(goals.streamsPerSecond)), check(stream.vsPortkey.rps, (value) => value >= fewer(goals.vsPortkey))),
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
      goal: `≤ ${bound(goals.oneConnectionMs)} ms`,
      measured: `${fmt(serial.addedMs.p50)} ms (CPU ${fmt(serial.median.cpuMsPer1k, 0)} µs per request)`,
      pass: check(serial.addedMs.p50, (value) => value <= goals.oneConnectionMs),
    });
  }
  if (atRate) {
    checks.push({
      target: `added latency at ${rate} req/s, p50 / p99, busy polling on`,
      goal: `≤ ${bound(goals.atRateP50Ms)} / ${bound(goals.atRateP99Ms)} ms`,
      measured: `${fmt(atRate.addedMs.p50)} / ${fmt(atRate.addedMs.p99)} ms (CPU ${fmt(atRate.median.cpuMsPer1k, 0)} µs per request)`,
      pass: allOf(check(atRate.addedMs.p50, (value) => value <= goals.atRateP50Ms), check(atRate.addedMs.p99, (value) => value <= goals.atRateP99Ms)),
    });
  }
  if (stream) {
    checks.push({
      target: 'streaming first-byte overhead, p50, busy polling on',
      goal: `≤ ${bound(goals.firstByteMs)} ms`,
      measured: `${fmt(stream.addedMs.ttfbP50)} ms`,
      pass: check(stream.addedMs.ttfbP50, (value) => value <= goals.firstByteMs),
    });
  }
  return checks;
}
