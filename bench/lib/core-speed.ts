/**
 * How fast the gateway's core is at the moment of a measurement. On a shared VM the same build can take 1.5–2×
 * the CPU time per request from one minute to the next (a busy neighbour on the host, time taken from the vCPU
 * without the guest seeing it as steal), and nothing in a measurement alone tells such a spell from a slower
 * build. A fixed piece of work timed on that core just before and after each measurement does: the report shows
 * each measurement's core speed against the fastest seen in the run.
 */
import { fileURLToPath } from 'node:url';
import { startIpcWorker } from './ipc-worker.js';

const sample = {
  id: 'chatcmpl-probe',
  object: 'chat.completion',
  created: 1_764_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'lorem ipsum dolor sit amet '.repeat(8) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 },
};

/** The probe's fixed work: about a millisecond of what a gateway does most (JSON, maps, strings, garbage). */
export function probeWork(): number {
  const seen = new Map<string, number>();
  let total = 0;
  for (let index = 0; index < 200; index += 1) {
    const text = JSON.stringify({ ...sample, created: sample.created + index });
    const parsed = JSON.parse(text) as typeof sample;
    const key = `${parsed.id}:${index % 16}`;
    seen.set(key, (seen.get(key) ?? 0) + parsed.usage.total_tokens);
    total += text.length + seen.size;
  }
  return total;
}

export interface CoreSpeedProbe {
  /** CPU µs the probe's work took on the gateway's core (the best of five trials). */
  measure(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the probe pinned to the gateway's core(s). */
export async function startCoreSpeedProbe(cores: string): Promise<CoreSpeedProbe> {
  const worker = await startIpcWorker<null, number>('core speed probe', fileURLToPath(new URL('../core-speed-worker.ts', import.meta.url)), cores);
  // The first calls run the work before V8 has optimised it; they say nothing about the core.
  for (let warmup = 0; warmup < 20; warmup += 1) await worker.call(null);
  return { measure: () => worker.call(null), stop: () => worker.stop() };
}

/** A measurement's core speed in % of the fastest in the run: the run's best probe time over its own. */
export function coreSpeedPercent(probeUs: number, fastestUs: number): number {
  return (fastestUs / probeUs) * 100;
}
