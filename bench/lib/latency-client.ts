/**
 * The benchmark's own undici clients, for what autocannon cannot report: sub-millisecond latency (autocannon's
 * histogram resolves whole milliseconds), an open loop at a fixed rate, and a stream's time to first and last byte.
 */
import { Client, Pool, type Dispatcher } from 'undici';
import type { LatencyJob, LatencyResult, StreamJob, StreamResult, Target } from './load-jobs.js';
import { distribution } from './stats.js';

const now = () => process.hrtime.bigint();
const toMs = (nanoseconds: bigint) => Number(nanoseconds) / 1e6;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The undici origin and request options of a target's POST. */
export function requestOptions(target: Target): { origin: string; options: Dispatcher.RequestOptions } {
  const url = new URL(target.url);
  return {
    origin: url.origin,
    options: {
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body: target.body,
    },
  };
}

/** Sends one request and reads the whole answer; the latency in ms, or undefined when it failed. */
async function timedRequest(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<number | undefined> {
  const started = now();
  try {
    const response = await dispatcher.request(options);
    for await (const chunk of response.body) void chunk;
    if (response.statusCode !== 200) return undefined;
    return toMs(now() - started);
  } catch {
    return undefined;
  }
}

export async function runLatency(job: LatencyJob): Promise<LatencyResult> {
  const { origin, options } = requestOptions(job.target);
  const samples: number[] = [];
  let failures = 0;
  const began = now();
  const deadline = began + BigInt(Math.round(job.durationS * 1e9));
  if (job.mode === 'sequential') {
    const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 });
    while (now() < deadline) {
      const latency = await timedRequest(client, options);
      if (latency === undefined) failures += 1;
      else samples.push(latency);
    }
    await client.close();
  } else {
    const rate = job.rate ?? 200;
    const pool = new Pool(origin, { connections: job.connections ?? 64, pipelining: 1, keepAliveTimeout: 60_000 });
    const interval = BigInt(Math.round(1e9 / rate));
    const inFlight = new Set<Promise<void>>();
    let next = now();
    while (true) {
      const current = now();
      if (current >= deadline) break;
      if (current < next) {
        await sleep(Math.max(0, toMs(next - current) - 0.5));
        continue;
      }
      next += interval;
      const sent: Promise<void> = timedRequest(pool, options).then((latency) => {
        if (latency === undefined) failures += 1;
        else samples.push(latency);
        inFlight.delete(sent);
      });
      inFlight.add(sent);
    }
    await Promise.all(inFlight);
    await pool.close();
  }
  return { kind: 'latency', requests: samples.length + failures, seconds: toMs(now() - began) / 1000, latencyMs: distribution(samples), failures };
}

const DONE = Buffer.from('data: [DONE]');

export async function runStream(job: StreamJob): Promise<StreamResult> {
  const { origin, options } = requestOptions(job.target);
  const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  const firstBytes: number[] = [];
  const lastBytes: number[] = [];
  let failures = 0;
  const began = now();
  const deadline = began + BigInt(Math.round(job.durationS * 1e9));
  while (now() < deadline) {
    const started = now();
    let first: bigint | undefined;
    let tail: Buffer = Buffer.alloc(0);
    try {
      const response = await client.request(options);
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (first === undefined) first = now();
        tail = tail.length === 0 ? chunk.subarray(-64) : Buffer.concat([tail, chunk]).subarray(-64);
      }
      const finished = now();
      // The last chunk must carry the end of the stream, or the gateway cut it short.
      if (response.statusCode !== 200 || first === undefined || tail.indexOf(DONE) < 0) {
        failures += 1;
        continue;
      }
      firstBytes.push(toMs(first - started));
      lastBytes.push(toMs(finished - started));
    } catch {
      failures += 1;
    }
  }
  await client.close();
  return {
    kind: 'stream',
    requests: firstBytes.length + failures,
    seconds: toMs(now() - began) / 1000,
    firstByteMs: distribution(firstBytes),
    lastByteMs: distribution(lastBytes),
    failures,
  };
}
