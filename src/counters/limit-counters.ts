/**
 * Limit counters: the one place where consumption limits and rate limits are enforced.
 *
 * The core reserves the worst case of a request against every limit of its key in one atomic step
 * before dispatching it, and settles to the actual amounts afterwards. Because the check and the
 * reservation happen together, concurrent requests cannot all pass a check that only one of them fits
 * in (the check-then-charge race that makes other gateways overspend). See README.md beside this file.
 */

/** One limit to check and reserve against. */
export interface LimitCheck {
  /** Opaque bucket name built by the core, e.g. `key:<id>:usd:2026-11-01`. */
  bucket: string;
  /** Largest total (spent + reserved) the bucket may reach. Finite and >= 0. */
  limit: number;
  /** Worst-case amount of this request. Finite and >= 0; 0 checks the limit without holding anything. */
  amount: number;
  /**
   * Milliseconds since the epoch (of the counters' clock) at which the bucket may be dropped: the end of
   * its window plus a margin. Undefined leaves any earlier value in place; a new bucket without one never expires.
   */
  expiresAt?: number;
}

/** The answer to a reservation: success, or the first bucket whose limit it would have exceeded. */
export type ReserveResult =
  | { ok: true }
  | { ok: false; failedBucket: string; spent: number; reserved: number; limit: number };

/** What a bucket holds: settled spend and the sum of live (unsettled, unexpired) reservations. */
export interface BucketState {
  spent: number;
  reserved: number;
}

/** Input of {@link LimitCounters.reserve}. */
export interface ReserveInput {
  /** Unique per reservation; reserving twice under one live id is an error. */
  reservationId: string;
  /** Checks on distinct buckets; checks naming the same bucket are merged (amounts summed, lowest limit kept). */
  checks: LimitCheck[];
  /** How long the reservation holds if never settled, e.g. when the process dies mid-request. */
  ttlMs: number;
}

/**
 * The answer of `reserve` and `settle`: counters of this process alone answer at once, counters shared through a
 * store with a promise. A request reserves and settles once each, and for in-process counters the promises (and
 * the turns of the microtask queue they cost) were a measurable part of its CPU. Input the counters refuse is a
 * rejected promise in either case, never a throw, so that callers handle one kind of failure.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Counters behind every consumption and rate limit. Amounts are exact to 1e-9 (nano-units), so sums of
 * decimal amounts such as USD never drift and a limit check never passes or fails because of rounding.
 */
export interface LimitCounters {
  /**
   * Atomically: if for EVERY check spent + reserved + amount <= limit, adds each amount to its bucket's
   * reserved and remembers the reservation (expiring at now + ttlMs if never settled); otherwise changes
   * nothing and reports the first failing check. See {@link MaybePromise} for how the answer comes.
   */
  reserve(input: ReserveInput): MaybePromise<ReserveResult>;
  /**
   * Ends a reservation: removes its reserved amounts and adds the actual amounts (by bucket; buckets of the
   * reservation not named add 0, buckets outside it are ignored) to spent. Idempotent: settling twice, or
   * after the reservation expired, changes nothing and reports `settled: false`; the caller may then record
   * the actual usage with {@link LimitCounters.add}.
   */
  settle(reservationId: string, actual: Record<string, number>): MaybePromise<{ settled: boolean }>;
  /** Adds to spent without a reservation (usage the ledger knows but the counters do not, e.g. at start). */
  add(bucket: string, amount: number, expiresAt?: number): Promise<void>;
  /** Current state of each bucket, in order; a missing or expired bucket reads as zeros. */
  read(buckets: string[]): Promise<BucketState[]>;
  /**
   * Writes to the shared store what this process has counted but not yet written (LeasedCounters batches its
   * settlements); a no-op for counters that write at once.
   */
  flush(): Promise<void>;
  /** Stops timers and closes connections the counters own. */
  close(): Promise<void>;
}
