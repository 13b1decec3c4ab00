import { describe, expect, it } from 'vitest';
import { summarise, type Measurement } from './report.js';
import { checkTargets, type TargetCheck } from './target-checks.js';
import { distribution } from './stats.js';

const scenarios = ['latency-1conn', 'latency-rate', 'throughput', 'stream-throughput'].map((name) => ({ name, description: name }));

/** A latency measurement whose p50 and p99 are the given values (ms). */
function latency(scenario: string, system: string, repetition: number, p50: number, p99: number): Measurement {
  // 100 samples: 98 at p50, then two at p99, so that the distribution's p50 and p99 are exactly these.
  const samples = [...Array.from({ length: 98 }, () => p50), p99, p99];
  return { scenario, system, repetition, result: { kind: 'latency', requests: 100, seconds: 1, latencyMs: distribution(samples), failures: 0 } };
}

function throughput(scenario: string, system: string, repetition: number, requestsPerSecond: number, cpuMsPer1k?: number): Measurement {
  return {
    scenario,
    system,
    repetition,
    result: { kind: 'throughput', loader: 'wrk', requests: requestsPerSecond, seconds: 1, requestsPerSecond, latencyMs: { p50: 1, p99: 2 }, failures: 0 },
    ...(cpuMsPer1k === undefined ? {} : { gateway: { cpuMsPer1k, rssMb: 100 } }),
  };
}

function byTarget(checks: TargetCheck[], prefix: string): TargetCheck {
  const found = checks.find((entry) => entry.target.startsWith(prefix));
  if (!found) throw new Error(`no target row starting with "${prefix}" in: ${checks.map((entry) => entry.target).join('; ')}`);
  return found;
}

describe('checkTargets', () => {
  it('judges PostgreSQL + Redis against the targets loosened by 1.5×, and names the floor beside the p99', () => {
    const measurements = [
      latency('latency-1conn', 'direct', 1, 0.1, 0.2),
      latency('latency-1conn', 'tollgate', 1, 0.45, 0.9),
      latency('latency-1conn', 'tollgate-pg', 1, 0.5, 1.5),
      latency('latency-rate', 'direct', 1, 0.1, 0.5),
      latency('latency-rate', 'tollgate', 1, 0.8, 2.0),
      latency('latency-rate', 'tollgate-pg', 1, 1.0, 3.0),
      latency('latency-rate', 'node-proxy', 1, 0.4, 1.0),
      throughput('throughput', 'portkey', 1, 700, 1400),
      throughput('throughput', 'tollgate', 1, 7000, 140),
      throughput('throughput', 'tollgate-pg', 1, 3500, 320),
      throughput('stream-throughput', 'portkey', 1, 600, 1600),
      throughput('stream-throughput', 'tollgate', 1, 5000, 190),
      throughput('stream-throughput', 'tollgate-pg', 1, 2700, 240),
    ];
    const checks = checkTargets(summarise(measurements, scenarios), undefined, 200, 32);

    // Embedded: +0.35 ms at one connection misses 0.30; PostgreSQL + Redis: +0.40 ms meets 0.45.
    expect(byTarget(checks, 'added latency, one connection').pass).toBe(false);
    expect(byTarget(checks, 'PostgreSQL + Redis: added latency, one connection')).toMatchObject({ goal: '≤ 0.45 ms', measured: '0.4 ms', pass: true });
    // +0.9 / +2.5 ms against 1.2 / 3 ms.
    expect(byTarget(checks, 'PostgreSQL + Redis: added latency at 200 req/s')).toMatchObject({ measured: '0.9 / 2.5 ms', pass: true });
    // 3,500 req/s meets 3,333 and 5× Portkey meets 4.67×, but 320 µs of CPU misses 300.
    expect(byTarget(checks, 'PostgreSQL + Redis: non-streaming throughput')).toMatchObject({ measured: '3500 req/s, 5×', pass: true });
    expect(byTarget(checks, 'PostgreSQL + Redis: CPU per non-streamed request')).toMatchObject({ measured: '320 µs', pass: false });
    // 2,700 streams/s meets 2,000, but 4.5× Portkey misses 4.67×.
    expect(byTarget(checks, 'PostgreSQL + Redis: streaming throughput')).toMatchObject({ measured: '2700 req/s, 4.5×', pass: false });
    // The p99 row says what the node:http proxy added at the same percentile: +0.5 ms, Tollgate +1 ms over it.
    expect(byTarget(checks, 'added latency at 200 req/s, p99').measured).toBe('1.5 ms (Tollgate p99 2 ms; node:http proxy +0.5 ms; Tollgate over it +1 ms)');
  });

  it('signs a difference below the proxy with a minus, not "+-"', () => {
    const measurements = [
      latency('latency-rate', 'direct', 1, 0.1, 0.5),
      latency('latency-rate', 'tollgate', 1, 0.6, 1.5),
      latency('latency-rate', 'node-proxy', 1, 0.4, 2.0),
    ];
    const checks = checkTargets(summarise(measurements, scenarios), undefined, 200, 32);
    // Tollgate's p99 (1.5 ms) fell below the proxy's (2 ms) in this run: +1 ms against +1.5 ms.
    expect(byTarget(checks, 'added latency at 200 req/s, p99').measured).toBe('1 ms (Tollgate p99 1.5 ms; node:http proxy +1.5 ms; Tollgate over it −0.5 ms)');
  });

  it('leaves a combined target unjudged when one of its parts was not measured, and adds no PostgreSQL rows without that system', () => {
    const measurements = [
      throughput('throughput', 'tollgate-pg', 1, 4000, 200),
      latency('latency-rate', 'direct', 1, 0.1, 0.5),
      latency('latency-rate', 'tollgate', 1, 0.5, 1.0),
    ];
    const withoutPortkey = checkTargets(summarise(measurements, scenarios), undefined, 200, 32);
    // Without Portkey in the run, the ratio is unknown: the row is neither met nor missed.
    expect(byTarget(withoutPortkey, 'PostgreSQL + Redis: non-streaming throughput').pass).toBeUndefined();
    expect(byTarget(withoutPortkey, 'PostgreSQL + Redis: CPU per non-streamed request').pass).toBe(true);

    const embeddedOnly = checkTargets(summarise(measurements.slice(1), scenarios), undefined, 200, 32);
    expect(embeddedOnly.some((entry) => entry.target.startsWith('PostgreSQL'))).toBe(false);
    // No node:http proxy in the run: the p99 row has no floor to name.
    expect(byTarget(embeddedOnly, 'added latency at 200 req/s, p99')).toMatchObject({ measured: '0.5 ms (Tollgate p99 1 ms)', pass: true });
  });
});
