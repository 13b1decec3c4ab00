/**
 * What this machine charges for the hop a gateway makes to its upstream, without any gateway:
 * `node --import tsx bench/hop.ts [--rate=200] [--seconds=10] [--runs=3] [--nice=N]`.
 * Starts the mock upstream on the load core and two copies of the bench's latency client, one on the load core
 * beside the mock (the `direct` system of `npm run bench`) and one alone on the gateway's core, where a gateway's
 * upstream requests leave from, and drives the mock from each in turn, open loop at `--rate` requests/s
 * (`--rate=0`: one connection, back to back). At 200 req/s every core idles between requests, and how dear and how
 * variable waking an idle core is depends on the VM (guest halt polling, the host's scheduling): the p99 of this bare
 * round trip is a tail that no gateway's p99 at that rate can go under (see bench/README.md, 2026-12-06).
 */
import { startLoadGenerator } from './lib/load-generator.js';
import type { LatencyResult } from './lib/load-jobs.js';
import { requestBody } from './lib/scenarios.js';
import { median, round } from './lib/stats.js';
import { startMock } from './lib/systems.js';
import { flag, setUpTool } from './lib/tool-setup.js';

async function main(): Promise<void> {
  const rate = Number(flag('rate', '200'));
  const seconds = Number(flag('seconds', '10'));
  const runs = Number(flag('runs', '3'));
  const { gatewayCores, loadCores } = setUpTool();
  if (gatewayCores === undefined) process.stderr.write('not pinned (no taskset or one core): both clients share the cores\n');
  const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
  const clients = [
    { name: 'client beside the mock', generator: await startLoadGenerator(loadCores), results: [] as LatencyResult[] },
    { name: 'client on the gateway core', generator: await startLoadGenerator(gatewayCores), results: [] as LatencyResult[] },
  ];
  const target = { url: `${mock.url}/v1/chat/completions`, headers: { authorization: 'Bearer sk-hop' }, body: requestBody('chat', 'gpt-4o-mini') };
  const job = (durationS: number) =>
    rate > 0
      ? ({ kind: 'latency', target, mode: 'rate', rate, durationS } as const)
      : ({ kind: 'latency', target, mode: 'sequential', durationS } as const);
  try {
    for (const client of clients) await client.generator.run(job(2));
    for (let run = 0; run < runs; run += 1) {
      for (const client of clients) {
        const result = await client.generator.run<LatencyResult>(job(seconds));
        client.results.push(result);
        process.stdout.write(`[${run + 1}/${runs}] ${client.name}: p50 ${round(result.latencyMs.p50)} ms, p99 ${round(result.latencyMs.p99)} ms\n`);
      }
    }
    process.stdout.write(`\n${rate > 0 ? `open loop at ${rate} req/s` : 'one connection, back to back'}, medians of ${runs} runs of ${seconds} s:\n`);
    for (const client of clients) {
      const of = (pick: (result: LatencyResult) => number) => round(median(client.results.map(pick)));
      process.stdout.write(
        `${client.name.padEnd(28)} p50 ${of((result) => result.latencyMs.p50)} ms  p90 ${of((result) => result.latencyMs.p90)} ms  p99 ${of((result) => result.latencyMs.p99)} ms  max ${of((result) => result.latencyMs.max)} ms\n`,
      );
    }
  } finally {
    for (const client of clients) await client.generator.stop();
    await mock.process.stop();
  }
}

await main();
