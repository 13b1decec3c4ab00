import { errors } from '../spec/errors.js';
import type { BucketState, LimitCounters, MaybePromise, ReserveInput, ReserveResult } from './limit-counters.js';
import { fromNanoUnits, toNanoUnits } from './nano-units.js';
import { normalizeExpiresAt, normalizeReservation, requireActualAmounts, requireName } from './normalize-input.js';

/** Options of {@link MemoryCounters}. */
export interface MemoryCountersOptions {
  /** The clock, in milliseconds since the epoch; tests inject one to control expiry. */
  now?: () => number;
  /**
   * When set, sweeps expired reservations and buckets on this interval even if nothing touches the
   * counters, so an idle process gives memory back. The timer is unref'd and never keeps the process alive.
   */
  sweepIntervalMs?: number;
}

interface Bucket {
  spent: bigint;
  /** The sum of the amounts of the live reservations holding something here. */
  reserved: bigint;
  expiresAt: number | undefined;
}

/** What one reservation holds in one bucket. */
interface Hold {
  name: string;
  /**
   * The bucket object the amount was added to. If that bucket expired meanwhile and the name was taken by a new
   * bucket, the amount goes back to the old, unreachable object, never to the new one, which never held it.
   */
  bucket: Bucket;
  amount: bigint;
}

/**
 * A live reservation and everything it holds. The holds live here rather than in each bucket, so reserving and
 * settling touch no per-bucket map; expiry and settlement both start from the reservation anyway.
 */
interface Reservation {
  expiresAt: number;
  holds: Hold[];
}

/**
 * Limit counters for a single process. Every method does its whole check and update synchronously (no
 * await in between), so on Node's single thread each call is atomic without locks. Amounts are BigInt
 * nano-units, exact at any size.
 */
export class MemoryCounters implements LimitCounters {
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly reservations = new Map<string, Reservation>();
  /**
   * No expiry anywhere is earlier than this, so while the clock is below it nothing needs sweeping. It may
   * be too early (a settled reservation's expiry), which only costs a sweep that finds nothing.
   */
  private nextSweepAt = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryCountersOptions = {}) {
    this.now = options.now ?? Date.now;
    if (options.sweepIntervalMs !== undefined) {
      this.timer = setInterval(() => this.expire(this.now()), options.sweepIntervalMs);
      this.timer.unref();
    }
  }

  /** Atomically checks every limit and, only if all fit, holds every amount; answers at once. */
  reserve(input: ReserveInput): MaybePromise<ReserveResult> {
    try {
      return this.reserveNow(input);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Releases the held amounts and charges the actual ones, once; answers at once. */
  settle(reservationId: string, actual: Record<string, number>): MaybePromise<{ settled: boolean }> {
    try {
      return this.settleNow(reservationId, actual);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private reserveNow(input: ReserveInput): ReserveResult {
    const reservation = normalizeReservation(input);
    const now = this.now();
    this.expire(now);
    if (this.reservations.has(reservation.reservationId)) {
      throw errors.internal('Limit counters: this reservation id is already in use.', {
        code: 'limit_counter_duplicate_reservation',
      });
    }
    for (const check of reservation.checks) {
      const bucket = this.buckets.get(check.bucket);
      const spent = bucket?.spent ?? 0n;
      const reserved = bucket?.reserved ?? 0n;
      if (spent + reserved + check.amount > check.limit) {
        return {
          ok: false,
          failedBucket: check.bucket,
          spent: fromNanoUnits(spent),
          reserved: fromNanoUnits(reserved),
          limit: fromNanoUnits(check.limit),
        };
      }
    }
    const expiresAt = now + reservation.ttlMs;
    const holds: Hold[] = [];
    for (const check of reservation.checks) {
      const bucket = this.bucketFor(check.bucket, check.expiresAt);
      bucket.reserved += check.amount;
      holds.push({ name: check.bucket, bucket, amount: check.amount });
    }
    this.reservations.set(reservation.reservationId, { expiresAt, holds });
    this.nextSweepAt = Math.min(this.nextSweepAt, expiresAt);
    return { ok: true };
  }

  private settleNow(reservationId: string, actual: Record<string, number>): { settled: boolean } {
    requireName(reservationId, 'reservationId');
    // Every amount is checked, even for buckets outside the reservation, so bad input fails whatever the state.
    requireActualAmounts(actual);
    this.expire(this.now());
    // An expired reservation was already removed by expire(), so finding it means it is live.
    const reservation = this.reservations.get(reservationId);
    if (reservation === undefined) return { settled: false };
    this.reservations.delete(reservationId);
    for (const hold of reservation.holds) {
      hold.bucket.reserved -= hold.amount;
      // A bucket whose window ended meanwhile is gone; there is nothing left to charge there.
      const bucket = this.buckets.get(hold.name);
      if (bucket === undefined || !Object.hasOwn(actual, hold.name)) continue;
      bucket.spent += toNanoUnits(actual[hold.name]!, 'the actual amount for', hold.name);
    }
    return { settled: true };
  }

  /** Adds to spent unconditionally. */
  async add(bucket: string, amount: number, expiresAt?: number): Promise<void> {
    requireName(bucket, 'bucket');
    const units = toNanoUnits(amount, 'the amount for', bucket);
    const expiry = normalizeExpiresAt(expiresAt);
    this.expire(this.now());
    this.bucketFor(bucket, expiry).spent += units;
  }

  /** Reads buckets after giving back expired reservations. */
  async read(buckets: string[]): Promise<BucketState[]> {
    this.expire(this.now());
    return buckets.map((name) => {
      const bucket = this.buckets.get(name);
      return {
        spent: fromNanoUnits(bucket?.spent ?? 0n),
        reserved: fromNanoUnits(bucket?.reserved ?? 0n),
      };
    });
  }

  /** Nothing to write: every call has already written. */
  async flush(): Promise<void> {}

  /** Stops the sweep timer. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Finds or creates a bucket, moving its expiry when one is given. */
  private bucketFor(name: string, expiresAt: number | undefined): Bucket {
    let bucket = this.buckets.get(name);
    if (bucket === undefined) {
      bucket = { spent: 0n, reserved: 0n, expiresAt: undefined };
      this.buckets.set(name, bucket);
    }
    if (expiresAt !== undefined) {
      bucket.expiresAt = expiresAt;
      this.nextSweepAt = Math.min(this.nextSweepAt, expiresAt);
    }
    return bucket;
  }

  /**
   * Drops buckets past their expiry, gives back reservations past theirs and forgets their records. It runs
   * at the start of every call, so no call ever sees an expired amount; it is a full pass, but only when
   * something has expired, which happens at window ends and for abandoned reservations.
   */
  private expire(now: number): void {
    if (now < this.nextSweepAt) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [name, bucket] of this.buckets) {
      if (bucket.expiresAt !== undefined && bucket.expiresAt <= now) {
        this.buckets.delete(name);
        continue;
      }
      if (bucket.expiresAt !== undefined) next = Math.min(next, bucket.expiresAt);
    }
    for (const [reservationId, reservation] of this.reservations) {
      if (reservation.expiresAt <= now) {
        for (const hold of reservation.holds) hold.bucket.reserved -= hold.amount;
        this.reservations.delete(reservationId);
      } else {
        next = Math.min(next, reservation.expiresAt);
      }
    }
    this.nextSweepAt = next;
  }
}
