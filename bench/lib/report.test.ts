import { describe, expect, it } from 'vitest';
import { coreSpeedLine, fastestProbeUs, renderMarkdown, summarise, type Measurement } from './report.js';
import { probeWork } from './core-speed.js';

function throughput(system: string, repetition: number, coreProbeUs?: number): Measurement {
  return {
    scenario: 'throughput',
    system,
    repetition,
    result: { kind: 'throughput', loader: 'wrk', requests: 1000, seconds: 1, requestsPerSecond: 1000, latencyMs: { p50: 1, p99: 2 }, failures: 0 },
    gateway: { cpuMsPer1k: 150, rssMb: 100 },
    machine: { otherOnGatewayCorePct: 0, loadCoresBusyPct: 50, ...(coreProbeUs === undefined ? {} : { coreProbeUs }) },
  };
}

describe('core speed in the report', () => {
  it("expresses each measurement's core speed against the run's fastest probe, as a median per system", () => {
    const measurements = [throughput('tollgate', 0, 1000), throughput('tollgate', 1, 2000), throughput('tollgate', 2, 1250), throughput('direct', 0, 1000)];
    expect(fastestProbeUs(measurements)).toBe(1000);
    const [summary] = summarise(measurements, [{ name: 'throughput', description: 'throughput' }]);
    const tollgate = summary!.systems.find((system) => system.system === 'tollgate')!;
    // 100 %, 50 % and 80 %: the median is 80.
    expect(tollgate.median.coreSpeedPct).toBe(80);
    expect(coreSpeedLine(measurements)).toBe(
      "gateway core speed (a fixed piece of work timed on the gateway's core during each measurement, against the run's fastest, 1000 µs): 50–100 %, median 90 %; 2 of 4 measurements below 85 %",
    );
  });

  it('reports steal time on the gateway core apart from other load, and leaves it out of older runs', () => {
    const stolen = (repetition: number, percent: number): Measurement => {
      const measurement = throughput('tollgate', repetition, 1000);
      return { ...measurement, machine: { ...measurement.machine!, stolenFromGatewayCorePct: percent } };
    };
    const measurements = [stolen(0, 30), stolen(1, 10), stolen(2, 20)];
    const [summary] = summarise(measurements, [{ name: 'throughput', description: 'throughput' }]);
    expect(summary!.systems[0]!.median.stolenPct).toBe(20);
    expect(summary!.systems[0]!.median.otherOnGatewayCorePct).toBe(0);
    expect(coreSpeedLine(measurements)).toMatch(/; steal time on that core 10–30 %, median 20 %$/);
    const markdown = renderMarkdown({ meta: {}, systems: [], scenarios: [summary!], soak: undefined, targets: [], measurements });
    expect(markdown).toMatch(/\| gw core stolen % \|$/m);
    expect(markdown).toMatch(/\| tollgate \|.* \| 100 \| 20 \|$/m);
    expect(coreSpeedLine([throughput('tollgate', 0, 1000)])).not.toContain('steal');
  });

  it('leaves core speed out of runs recorded without the probe', () => {
    const measurements = [throughput('tollgate', 0), throughput('direct', 0)];
    expect(fastestProbeUs(measurements)).toBeUndefined();
    expect(coreSpeedLine(measurements)).toBeUndefined();
    const scenarios = summarise(measurements, [{ name: 'throughput', description: 'throughput' }]);
    expect(scenarios[0]!.systems[0]!.median.coreSpeedPct).toBeUndefined();
    const markdown = renderMarkdown({ meta: {}, systems: [], scenarios, soak: undefined, targets: [], measurements });
    expect(markdown).not.toContain('gateway core speed (');
    expect(markdown).toMatch(/\| tollgate \|.* \| n\/a \|$/m);
  });

  it('gives the probe the same work every time', () => {
    expect(probeWork()).toBe(probeWork());
    expect(probeWork()).toBeGreaterThan(0);
  });
});
