/**
 * How fast the gateway's core was during a measurement. On a shared VM the same build can take 1.5–2× the CPU
 * time per request from a few seconds to the next (a busy neighbour on the host; most guests see no steal time),
 * and nothing in a measurement alone tells such a spell from a slower build. A fixed piece of work, timed on that
 * core every 100 ms while the measurement runs, does: the report shows each measurement's core speed against the
 * fastest seen in the run. Timed before and after a measurement instead, it missed spells that began or ended
 * in between (a correlation of 0.5 with the gateway's CPU per request, against 0.63–0.84 timed throughout).
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

/** The probe's fixed work: about 0.3 ms of what a gateway does most (JSON, maps, strings, garbage). */
export function probeWork(): number {
  const seen = new Map<string, number>();
  let total = 0;
  for (let index = 0; index < 80; index += 1) {
    const text = JSON.stringify({ ...sample, created: sample.created + index });
    const parsed = JSON.parse(text) as typeof sample;
    const key = `${parsed.id}:${index % 16}`;
    seen.set(key, (seen.get(key) ?? 0) + parsed.usage.total_tokens);
    total += text.length + seen.size;
  }
  return total;
}

export type ProbeRequest = 'start' | 'stop';

/** The probe's answer to `stop`: the median CPU µs of one piece of work, and all the CPU µs it used since `start`. */
export interface ProbeReply {
  workUs: number;
  usedUs: number;
}

export interface CoreSpeedProbe {
  /** Starts timing the probe's work on the gateway's core, every 100 ms (under 0.5 % of the core). */
  start(): Promise<void>;
  /**
   * Stops timing: the median of what the work took meanwhile (NaN when no 100 ms passed), and the probe's own CPU
   * time (neither the gateway's nor other load).
   */
  finish(): Promise<ProbeReply>;
  stop(): Promise<void>;
}

/** Starts the probe pinned to the gateway's core(s). */
export async function startCoreSpeedProbe(cores: string): Promise<CoreSpeedProbe> {
  const worker = await startIpcWorker<ProbeRequest, ProbeReply>('core speed probe', fileURLToPath(new URL('../core-speed-worker.ts', import.meta.url)), cores);
  return {
    start: async () => {
      await worker.call('start');
    },
    finish: () => worker.call('stop'),
    stop: () => worker.stop(),
  };
}

/** A measurement's core speed in % of the fastest in the run: the run's best probe time over its own. */
export function coreSpeedPercent(probeUs: number, fastestUs: number): number {
  return (fastestUs / probeUs) * 100;
}
