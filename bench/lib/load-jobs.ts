/** The jobs the load-generator process runs, and what it answers; shared by the bench and the worker. */
import type { Distribution } from './stats.js';

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Closed loop at fixed concurrency (autocannon or wrk): throughput and coarse latency. */
export interface ThroughputJob {
  kind: 'throughput';
  target: Target;
  connections: number;
  durationS?: number;
  /** Stop after this many requests instead of after a duration. */
  amount?: number;
  loader: 'autocannon' | 'wrk';
}

export interface ThroughputResult {
  kind: 'throughput';
  loader: 'autocannon' | 'wrk';
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles (ms); autocannon resolves whole milliseconds. */
  latencyMs: { p50: number; p99: number };
  failures: number;
}

/**
 * Precise latency with a small undici client: one connection, back to back (`sequential`), or an open loop at a
 * fixed request rate over a pool (`rate`).
 */
export interface LatencyJob {
  kind: 'latency';
  target: Target;
  mode: 'sequential' | 'rate';
  durationS: number;
  rate?: number;
  connections?: number;
}

export interface LatencyResult {
  kind: 'latency';
  requests: number;
  seconds: number;
  latencyMs: Distribution;
  failures: number;
}

/** Streams back to back on one connection: time to the first body byte and to the end. */
export interface StreamJob {
  kind: 'stream';
  target: Target;
  durationS: number;
}

export interface StreamResult {
  kind: 'stream';
  requests: number;
  seconds: number;
  firstByteMs: Distribution;
  lastByteMs: Distribution;
  failures: number;
}

/**
 * `streams` streams kept open at once for `durationS`, each followed at once by the next on its connection, against a
 * mock that stamps its content chunks (bench/open-streams.ts): how long each chunk took from the mock to the client.
 */
export interface OpenStreamsJob {
  kind: 'open-streams';
  target: Target;
  streams: number;
  durationS: number;
  /** The streams start spread over this many ms, so that their chunks do not all fall on the same instants. */
  spreadMs: number;
}

export interface OpenStreamsResult {
  kind: 'open-streams';
  /** Streams that ended with `[DONE]` and a 200. */
  completed: number;
  failures: number;
  seconds: number;
  /** Stamped chunks received. */
  chunks: number;
  /** From the mock's write of a chunk to its arrival at the client (ms). */
  deliveryMs: Distribution;
  /** From sending a request to its first body bytes (ms): the mock's first interval, plus any wait for a connection. */
  firstByteMs: Distribution;
}

export type LoadJob = ThroughputJob | LatencyJob | StreamJob | OpenStreamsJob;
/** What the main suite's scenarios measure (bench/run.ts and its report). */
export type SuiteResult = ThroughputResult | LatencyResult | StreamResult;
export type LoadResult = SuiteResult | OpenStreamsResult;

