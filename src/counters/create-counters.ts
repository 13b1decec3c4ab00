import type { LimitCounters } from './limit-counters.js';
import { LeasedCounters } from './leased-counters.js';
import { MemoryCounters } from './memory-counters.js';
import { RedisCounters } from './redis-counters.js';

/** Options of {@link createCounters}; config loading supplies them (nothing here reads the environment). */
export interface CreateCountersOptions {
  /** When set, counters live in this Redis and are shared by every gateway process using it. */
  redisUrl?: string | undefined;
  /** Key prefix in Redis; ignored in memory. */
  keyPrefix?: string | undefined;
  /** How long a Redis command may take before it fails (default 2,000 ms); ignored in memory. */
  commandTimeoutMs?: number | undefined;
  /**
   * With Redis: whether each process leases slices of the budgets and reserves against them in memory
   * (LeasedCounters, the default) or makes one Redis round trip per reservation and settlement (RedisCounters).
   */
  leases?: boolean | undefined;
  /** Told when a background call to Redis fails (leases only): a flush, whose usage is kept and retried, or a recall answer. */
  onError?: ((error: unknown) => void) | undefined;
  /** The clock, in milliseconds since the epoch. */
  now?: (() => number) | undefined;
}

/**
 * A Redis command takes well under a millisecond; one still unanswered after this long means a Redis that stalls
 * (a frozen process, a network that drops packets without closing the connection), where ioredis would otherwise
 * wait forever and every request with it.
 */
const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

/** How often in-memory counters sweep when idle; lazy sweeping on each call already keeps them exact. */
const MEMORY_SWEEP_INTERVAL_MS = 60_000;

/**
 * Creates the limit counters: Redis-backed when a URL is given (required for several gateway processes to
 * share limits), otherwise in memory for a single process. The Redis connection is owned and closed by
 * the counters' close(); ioredis is loaded only then.
 */
export async function createCounters(options: CreateCountersOptions = {}): Promise<LimitCounters> {
  if (options.redisUrl !== undefined && options.redisUrl !== '') {
    // Loaded only when used: a single process on memory counters does not carry the Redis client in memory.
    const { Redis } = await import('ioredis');
    // A request waits for at most two reconnect attempts during a Redis outage, then fails with a 503,
    // instead of hanging for ioredis's default of twenty.
    // A command unanswered for commandTimeoutMs fails the same way: a reservation refused with a 503 (what
    // Redis may still hold of it expires with its hold), a settlement reported (the ledger keeps its row).
    const client = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS });
    const shared = { client, keyPrefix: options.keyPrefix, now: options.now, ownsClient: true };
    if (options.leases === false) return new RedisCounters(shared);
    return LeasedCounters.create({ ...shared, onError: options.onError });
  }
  return new MemoryCounters({ now: options.now, sweepIntervalMs: MEMORY_SWEEP_INTERVAL_MS });
}
