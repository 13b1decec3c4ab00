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
    ...throughputChecks('non-streaming', throughput, 5000, connections),
    ...throughputChecks('streaming', stream, 3000, connections),
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
/** The two rows of a throughput scenario: requests/s on one core, and the ratio to Portkey in the same repetition (≥ 7×). */
function throughputChecks(kind: 'non-streaming' | 'streaming', summary: SystemSummary | undefined, minimum: number, connections: number): TargetCheck[] {
  return [
    {
      target: `${kind} throughput, one core, concurrency ${connections}`,
      goal: `≥ ${minimum.toLocaleString('en-US')} req/s`,
      measured: `${fmt(summary?.median.rps, 0)} req/s (${fmt(summary?.median.cpuBoundRps, 0)} req/s per core from CPU time)`,
      pass: check(summary?.median.rps, (value) => value >= minimum),
    },
    {
      target: `${kind} throughput vs Portkey`,
      goal: '≥ 7×',
      measured: `${fmt(summary?.vsPortkey.rps, 2)}× (${fmt(summary?.vsPortkey.cpuBoundRps, 2)}× per core from CPU time)`,
      pass: check(summary?.vsPortkey.rps, (value) => value >= 7),
    },
  ];
}

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
