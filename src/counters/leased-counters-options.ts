import type { Redis } from 'ioredis';

/** Options of `LeasedCounters.create` (leased-counters.ts). */
export interface LeasedCountersOptions {
  /** The ioredis client for commands; a second connection is made from it for recalls (publish/subscribe). */
  client: Redis;
  /** Prepended to every key and channel; defaults to `tollgate:counters:`. */
  keyPrefix?: string;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
  /** Whether close() should disconnect the client (true when the counters created it). */
  ownsClient?: boolean;
  /** How often usage is written to Redis and idle leases given back (default 100 ms). */
  flushIntervalMs?: number;
  /** How long a refused reservation waits for other processes to give their leases back (default 250 ms). */
  recallWaitMs?: number;
  /** Told when a background call to Redis fails (a flush, whose usage is kept for the next one, or a recall's answer). */
  onError?: (error: unknown) => void;
}
