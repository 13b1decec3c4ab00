import type { Redis } from 'ioredis';
import { errors, isGatewayError } from '../spec/errors.js';
import type { BucketState, LimitCounters, ReserveInput, ReserveResult } from './limit-counters.js';
import { fromNanoUnits, toNanoUnits } from './nano-units.js';
import { normalizeActual, normalizeExpiresAt, normalizeReservation, requireName, type NormalizedCheck } from './normalize-input.js';
import { ADD_SCRIPT, READ_SCRIPT, RESERVE_SCRIPT, SETTLE_SCRIPT } from './redis-scripts.js';

/** Options of {@link RedisCounters}. */
export interface RedisCountersOptions {
  /** An ioredis client; the scripts are defined on it under `tollgateCounters*` names. */
  client: Redis;
  /** Prepended to every key, e.g. `tollgate:`; defaults to `tollgate:counters:`. */
  keyPrefix?: string;
  /** The clock, in milliseconds since the epoch; tests inject one to control expiry. */
  now?: () => number;
  /** Whether close() should disconnect the client (true when the counters created it). */
  ownsClient?: boolean;
}

/**
 * How much longer than its own expiry a reservation's record lives in Redis. The record's Redis TTL runs on
 * the Redis server's clock, not the injected one; the margin keeps a skew between the two from deleting a
 * live reservation's record early. Expiry itself is decided by the scripts with the injected clock.
 */
const RECORD_MARGIN_MS = 10 * 60 * 1000;

/** The scripts as ioredis commands; each call is one EVALSHA round trip (EVAL once if Redis lost the script). */
interface CounterCommands {
  tollgateCountersReserve(...argv: string[]): Promise<Array<number | string>>;
  tollgateCountersSettle(...argv: string[]): Promise<number>;
  tollgateCountersAdd(...argv: string[]): Promise<number>;
  tollgateCountersRead(...argv: string[]): Promise<string[]>;
}

/**
 * Limit counters shared by every gateway process connected to one Redis. Each operation is a single Lua
 * script, so reserve's check-and-hold is atomic across processes, and expired reservations are given back
 * inside the same scripts before anything is checked or read.
 *
 * Time comes from the injected clock, passed to every script as an argument, rather than from Redis TIME.
 * Why: the core builds window bucket names and `expiresAt` from that same clock, so expiry and windows
 * agree, and tests can move time without sleeping. The trade-off: processes whose clocks disagree also
 * disagree on when a reservation expires; one whose clock runs ahead may give back a reservation early.
 * With NTP-synchronised hosts the skew is milliseconds, far below any sensible ttlMs (which must anyway
 * exceed the longest request), so the choice costs nothing in practice. Redis TIME would remove the skew
 * but could not be controlled in tests and would split time between two sources inside the gateway.
 */
export class RedisCounters implements LimitCounters {
  private readonly client: Redis;
  private readonly commands: CounterCommands;
  private readonly keyPrefix: string;
  private readonly now: () => number;
  private readonly ownsClient: boolean;

  constructor(options: RedisCountersOptions) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix ?? 'tollgate:counters:';
    this.now = options.now ?? Date.now;
    this.ownsClient = options.ownsClient ?? false;
    this.client.defineCommand('tollgateCountersReserve', { numberOfKeys: 0, lua: RESERVE_SCRIPT });
    this.client.defineCommand('tollgateCountersSettle', { numberOfKeys: 0, lua: SETTLE_SCRIPT });
    this.client.defineCommand('tollgateCountersAdd', { numberOfKeys: 0, lua: ADD_SCRIPT });
    this.client.defineCommand('tollgateCountersRead', { numberOfKeys: 0, lua: READ_SCRIPT });
    this.commands = this.client as unknown as CounterCommands;
  }

  /** Atomically checks every limit and, only if all fit, holds every amount; one round trip. */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const reservation = normalizeReservation(input);
    const now = this.now();
    const argv = [
      this.keyPrefix,
      String(now),
      reservation.reservationId,
      String(now + reservation.ttlMs),
      String(Math.ceil(reservation.ttlMs) + RECORD_MARGIN_MS),
    ];
    for (const check of reservation.checks) {
      argv.push(check.bucket, check.limit.toString(), check.amount.toString(), expiryArgument(check.expiresAt));
    }
    const reply = await runCounterCommand(() => this.commands.tollgateCountersReserve(...argv));
    const status = Number(reply[0]);
    if (status === 1) return { ok: true };
    if (status === -1) {
      throw errors.internal('Limit counters: this reservation id is already in use.', {
        code: 'limit_counter_duplicate_reservation',
      });
    }
    return refusalFrom(reply, reservation.checks);
  }

  /** Releases the held amounts and charges the actual ones, once; one round trip. */
  async settle(reservationId: string, actual: Record<string, number>): Promise<{ settled: boolean }> {
    requireName(reservationId, 'reservationId');
    const argv = [this.keyPrefix, String(this.now()), reservationId];
    for (const [bucket, units] of normalizeActual(actual)) argv.push(bucket, units.toString());
    const reply = await runCounterCommand(() => this.commands.tollgateCountersSettle(...argv));
    return { settled: Number(reply) === 1 };
  }

  /** Adds to spent unconditionally; one round trip. */
  async add(bucket: string, amount: number, expiresAt?: number): Promise<void> {
    requireName(bucket, 'bucket');
    const units = toNanoUnits(amount, `the amount for ${bucket}`);
    const expiry = expiryArgument(normalizeExpiresAt(expiresAt));
    const argv = [this.keyPrefix, String(this.now()), bucket, units.toString(), expiry];
    await runCounterCommand(() => this.commands.tollgateCountersAdd(...argv));
  }

  /** Reads buckets after giving back expired reservations; one round trip. */
  async read(buckets: string[]): Promise<BucketState[]> {
    if (buckets.length === 0) return [];
    for (const bucket of buckets) requireName(bucket, 'bucket');
    const reply = await runCounterCommand(() =>
      this.commands.tollgateCountersRead(this.keyPrefix, String(this.now()), ...buckets),
    );
    return buckets.map((_, index) => ({
      spent: fromNanoUnits(BigInt(reply[index * 2] ?? '0')),
      reserved: fromNanoUnits(BigInt(reply[index * 2 + 1] ?? '0')),
    }));
  }

  /** Nothing to write: every call has already written. */
  async flush(): Promise<void> {}

  /** Disconnects the client if these counters created it. */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      // Quitting a connection that never came up fails; there is nothing left to release.
      this.client.disconnect();
    }
  }

}

/** The refusal a script reported as {0, index of the failing check, spent, reserved, ...}. */
export function refusalFrom(reply: Array<number | string>, checks: NormalizedCheck[]): Extract<ReserveResult, { ok: false }> {
  const failed = checks[Number(reply[1])];
  if (failed === undefined) throw errors.internal('Limit counters: unexpected reply from Redis.');
  return {
    ok: false,
    failedBucket: failed.bucket,
    spent: fromNanoUnits(BigInt(reply[2] ?? 0)),
    reserved: fromNanoUnits(BigInt(reply[3] ?? 0)),
    limit: fromNanoUnits(failed.limit),
  };
}

/**
 * Runs a counters' Redis command, turning Redis failures into one gateway error. The cause is kept for logs; the
 * message never includes the Redis URL, which may carry a password.
 */
export async function runCounterCommand<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isGatewayError(error)) throw error;
    throw errors.unavailable('Limit counters are unavailable.', {
      code: 'limit_counters_unavailable',
      retryable: true,
      cause: error,
    });
  }
}

/** A bucket's expiry as a script argument: '' for none. */
export function expiryArgument(expiresAt: number | undefined): string {
  return expiresAt === undefined ? '' : String(expiresAt);
}
