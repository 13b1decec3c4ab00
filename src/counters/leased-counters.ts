import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors } from '../spec/errors.js';
import type { BucketState, LimitCounters, ReserveInput, ReserveResult } from './limit-counters.js';
import { fromNanoUnits, toNanoUnits } from './nano-units.js';
import { normalizeReservation, requireActualAmounts, requireName, type NormalizedCheck, type NormalizedReservation } from './normalize-input.js';
import { LeaseRecalls } from './lease-recalls.js';
import { addLeaseCall, freeOf, leaseCallAnswered, leaseCallFailed, newLeaseRecord, type LeaseCall, type LeaseRecord, type LocalHold, type LocalReservation } from './lease-record.js';
import { RedisCounters, refusalFrom, runCounterCommand } from './redis-counters.js';
import { LEASE_SCRIPT } from './redis-scripts.js';
import type { LeasedCountersOptions } from './leased-counters-options.js';

export type { LeasedCountersOptions } from './leased-counters-options.js';

/** A lease asks for this many more requests' worth of a bucket than the request that asks for it. */
const LEASE_REQUESTS = 64n;
/** Below this many requests' worth left, a lease is topped up in the background, before requests must wait for it. */
const TOP_UP_BELOW_REQUESTS = 16n;
/** How many times a refused request asks the other processes for their leases before the refusal is final. */
const RECALL_ROUNDS = 2;
/** After a recall, leases on the bucket grow no further than each request's own amount for this long. */
const RECALL_COOLDOWN_MS = 1_000;
const DEFAULT_FLUSH_INTERVAL_MS = 100;
/** The most buckets one flush script writes. */
const FLUSH_BATCH_BUCKETS = 256;

type LeaseReply = Array<number | string>;

interface LeaseCommands {
  tollgateCountersLease(...argv: string[]): Promise<LeaseReply>;
}

const OK: ReserveResult = { ok: true };

/**
 * Limit counters shared through Redis in which each process leases a slice of a bucket's remaining budget and
 * reserves against it in memory: a request whose amounts fit in the process's leases costs no Redis round trip;
 * settlements are written to Redis in batches every flush interval.
 *
 * Why it never overspends: a lease is a hold in Redis like a reservation, counted in the bucket's reserved, so
 * every process sees it as taken; a process reserves locally only within what Redis holds for it (a reply
 * replaces the local view of the lease, and replies come in command order), and gives back only what none of
 * its requests hold or may be granted. Why it does not refuse what fits: a request that does not fit locally
 * goes to Redis, giving back the process's own free lease in the same step; when other processes' leases are in
 * the way, it asks them over publish/subscribe to give theirs back, waits for their answers, and tries once more.
 * A lease grows by at most a quarter of what is left, so leases shrink towards the limit by themselves.
 *
 * What differs from {@link RedisCounters}: another process's usage reaches Redis within a flush interval
 * (this process's own before any read); read() counts in reserved what other processes' requests held at their
 * last call to Redis (they report it with every call) and what this process's requests hold now; a process that
 * dies holds its leases until they expire, like its reservations (the reservation ttl).
 */
export class LeasedCounters implements LimitCounters {
  readonly #client: Redis;
  #recalls: LeaseRecalls | undefined;
  readonly #commands: LeaseCommands;
  readonly #redis: RedisCounters;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  /** Names this process's leases in Redis and its recall answers. */
  readonly #leaseId = `lease:${randomUUID()}`;
  readonly #records = new Map<string, LeaseRecord>();
  readonly #reservations = new Map<string, LocalReservation>();
  #nextSweepAt = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(options: LeasedCountersOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? 'tollgate:counters:';
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#redis = new RedisCounters({ client: options.client, keyPrefix: this.#prefix, now: this.#now, ownsClient: options.ownsClient ?? false });
    this.#client.defineCommand('tollgateCountersLease', { numberOfKeys: 0, lua: LEASE_SCRIPT });
    this.#commands = this.#client as unknown as LeaseCommands;
    const interval = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#timer = setInterval(() => void this.flush(false), interval);
    this.#timer.unref();
  }

  /** Creates the counters once their recall subscription is in place, so that no recall can be missed. */
  static async create(options: LeasedCountersOptions): Promise<LeasedCounters> {
    const counters = new LeasedCounters(options);
    try {
      counters.#recalls = await LeaseRecalls.start({
        client: options.client,
        prefix: counters.#prefix,
        leaseId: counters.#leaseId,
        waitMs: options.recallWaitMs,
        giveBack: (bucket) => counters.#giveBack(bucket),
        onError: counters.#onError,
      });
    } catch (error) {
      await counters.close();
      throw error;
    }
    return counters;
  }

  /** Reserves within this process's leases when they suffice; otherwise through Redis (see the class comment). */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const reservation = normalizeReservation(input);
    const now = this.#now();
    this.#expire(now);
    if (this.#reservations.has(reservation.reservationId)) {
      throw errors.internal('Limit counters: this reservation id is already in use.', {
        code: 'limit_counter_duplicate_reservation',
      });
    }
    if (this.#reserveLocally(reservation, now)) return OK;
    // A lease call already under way for these buckets may bring what this request needs: one round trip, not two.
    const underWay = this.#underWay(reservation);
    if (underWay !== undefined) {
      await underWay;
      if (this.#reserveLocally(reservation, this.#now())) return OK;
    }
    // When other processes' leases are in the way, they are asked to give back what they do not use and the request
    // is checked again; a second round covers a lease granted to one of their requests while the first was answered.
    for (let round = 0; ; round += 1) {
      const result = await this.#acquire(reservation, round === 0);
      if (result.ok || this.#reserveLocally(reservation, this.#now())) return OK;
      const { othersLeased, ...refusal } = result;
      if (!othersLeased || round === RECALL_ROUNDS) return refusal;
      await this.#recalls?.recall(refusal.failedBucket);
    }
  }

  /** Ends a reservation of this process: the held amounts go back to its leases, the actual ones are written soon. */
  async settle(reservationId: string, actual: Record<string, number>): Promise<{ settled: boolean }> {
    requireName(reservationId, 'reservationId');
    requireActualAmounts(actual);
    const now = this.#now();
    this.#expire(now);
    const reservation = this.#reservations.get(reservationId);
    if (reservation === undefined) return { settled: false };
    this.#reservations.delete(reservationId);
    let recalled = false;
    for (const hold of reservation.holds) {
      hold.record.held -= hold.amount;
      // The amount is charged to the bucket of that name now; if the held one's window ended, there may be none.
      const record = this.#records.get(hold.record.bucket);
      if (record === undefined || !Object.hasOwn(actual, record.bucket)) continue;
      record.used += toNanoUnits(actual[record.bucket]!, 'the actual amount for', record.bucket);
      if (now < record.recalledUntil) recalled = true;
    }
    // Another process waits for this bucket's budget: what this settlement frees goes back now, not at the next tick.
    if (recalled) void this.flush(false);
    return { settled: true };
  }

  /** Adds to spent in Redis directly. */
  add(bucket: string, amount: number, expiresAt?: number): Promise<void> {
    return this.#redis.add(bucket, amount, expiresAt);
  }

  /** Writes this process's usage, then reads Redis; reserved is what this process's requests hold plus other holds. */
  async read(buckets: string[]): Promise<BucketState[]> {
    for (const bucket of buckets) requireName(bucket, 'bucket');
    this.#expire(this.#now());
    await this.flush(false);
    const states = await this.#redis.read(buckets);
    return states.map((state, index) => {
      const record = this.#records.get(buckets[index]!);
      if (record === undefined) return state;
      // Redis knows what this process's requests held at its last call; what they hold now is known here.
      const others = toNanoUnits(state.reserved, 'the reserved amount of', record.bucket) - record.reported;
      return { spent: state.spent, reserved: fromNanoUnits((others > 0n ? others : 0n) + record.held) };
    });
  }

  /**
   * Writes what this process has settled, gives back idle (or, with `everything`, all free) leases and renews the
   * others; a failure is reported and the usage kept for the next flush.
   */
  async flush(everything = false): Promise<void> {
    // One flush at a time: a second one started meanwhile waits for it and then writes what came since.
    while (this.#flushing !== undefined) await this.#flushing;
    const flushing = this.#flushOnce(everything).finally(() => {
      this.#flushing = undefined;
    });
    this.#flushing = flushing;
    await flushing;
  }

  /** Writes usage, gives every lease back and closes the connections these counters made. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      if (this.#client.status === 'ready') await this.flush(true);
    } finally {
      this.#recalls?.close();
      await this.#redis.close();
    }
  }

  /** Holds every amount within this process's valid leases, or nothing. Synchronous: atomic on Node's thread. */
  #reserveLocally(reservation: NormalizedReservation, now: number): boolean {
    const records: LeaseRecord[] = [];
    for (const check of reservation.checks) {
      const record = this.#records.get(check.bucket);
      if (record === undefined || record.limit !== check.limit || record.validUntil <= now || record.trimming > 0) return false;
      if (check.amount > 0n && freeOf(record) < check.amount) return false;
      records.push(record);
    }
    this.#hold(reservation, records, now);
    for (const record of records) {
      // A bucket only counted (amount 0: no limit of its own) needs no lease, however much it has counted since the last flush.
      if (record.topUpBelow > 0n && record.inFlight === undefined && freeOf(record) < record.topUpBelow && now >= record.recalledUntil) {
        // A failed top-up costs nothing: the request that needs more lease goes to Redis and meets the failure itself.
        this.#acquire(reservation, true, false).catch(() => undefined);
        break;
      }
    }
    return true;
  }

  /** The lease calls under way for a reservation's buckets, as one promise that never rejects; undefined if none. */
  #underWay(reservation: NormalizedReservation): Promise<unknown> | undefined {
    let calls: Array<Promise<unknown>> | undefined;
    for (const check of reservation.checks) {
      const call = this.#records.get(check.bucket)?.inFlight;
      if (call !== undefined && !calls?.includes(call)) (calls ??= []).push(call);
    }
    return calls === undefined ? undefined : Promise.all(calls);
  }

  #hold(reservation: NormalizedReservation, records: LeaseRecord[], now: number): void {
    const holds: LocalHold[] = [];
    for (const [index, check] of reservation.checks.entries()) {
      const record = records[index]!;
      record.held += check.amount;
      record.active = true;
      record.topUpBelow = check.amount * TOP_UP_BELOW_REQUESTS;
      if (check.expiresAt !== undefined) record.expiresAt = check.expiresAt;
      if (reservation.ttlMs > record.ttlMs) record.ttlMs = reservation.ttlMs;
      holds.push({ record, amount: check.amount });
    }
    const expiresAt = now + reservation.ttlMs;
    this.#reservations.set(reservation.reservationId, { expiresAt, holds });
    this.#nextSweepAt = Math.min(this.#nextSweepAt, expiresAt);
  }

  /**
   * One LEASE_SCRIPT call for a reservation: writes the buckets' usage, gives back this process's free leases on them,
   * and, if every check then fits, holds the amounts (plus, with `grow`, more lease for the next requests). With
   * `holding` false it is a top-up: the same call for nothing but the more lease, the reservation already held.
   */
  async #acquire(reservation: NormalizedReservation, grow: boolean, holding = true): Promise<AcquireResult> {
    const now = this.#now();
    const calls: LeaseCall[] = [];
    const argv = this.#leaseArguments(now);
    for (const check of reservation.checks) {
      const record = this.#recordFor(check, reservation.ttlMs);
      // What this process's requests hold, or may be granted by calls already sent, stays; the rest goes back, so that
      // a refusal is decided on all that is free. A top-up only adds to the lease and gives nothing back.
      const want = grow && now >= record.recalledUntil ? check.amount * LEASE_REQUESTS : 0n;
      calls.push(addLeaseCall(argv, record, { trim: holding, limit: check.limit.toString(), amount: holding ? check.amount : 0n, want }, now));
    }
    const command = runCounterCommand(() => this.#commands.tollgateCountersLease(...argv));
    const underWay = command.then(
      () => undefined,
      () => undefined,
    );
    for (const call of calls) call.record.inFlight = underWay;
    let reply: LeaseReply;
    try {
      reply = await command;
    } catch (error) {
      for (const call of calls) {
        leaseCallFailed(call);
        if (call.record.inFlight === underWay) call.record.inFlight = undefined;
      }
      throw error;
    }
    const ok = Number(reply[0]) === 1;
    const leasesFrom = ok ? 1 : 5;
    for (const [index, call] of calls.entries()) {
      const record = call.record;
      if (record.inFlight === underWay) record.inFlight = undefined;
      leaseCallAnswered(call, BigInt(reply[leasesFrom + index] ?? 0), now);
      if (ok) {
        record.limit = reservation.checks[index]!.limit;
        record.reported += call.amount;
      }
    }
    if (ok) {
      if (holding) this.#hold(reservation, calls.map((call) => call.record), this.#now());
      return { ok: true };
    }
    return { ...refusalFrom(reply, reservation.checks), othersLeased: Number(reply[4]) === 1 };
  }

  #recordFor(check: NormalizedCheck, ttlMs: number): LeaseRecord {
    let record = this.#records.get(check.bucket);
    if (record === undefined) {
      record = newLeaseRecord(check.bucket, check.expiresAt, ttlMs);
      this.#records.set(check.bucket, record);
      if (check.expiresAt !== undefined) this.#nextSweepAt = Math.min(this.#nextSweepAt, check.expiresAt);
    }
    if (check.expiresAt !== undefined) record.expiresAt = check.expiresAt;
    if (ttlMs > record.ttlMs) record.ttlMs = ttlMs;
    return record;
  }

  async #flushOnce(everything: boolean): Promise<void> {
    const now = this.#now();
    this.#expire(now);
    const batches: Array<Promise<void>> = [];
    let calls: LeaseCall[] = [];
    let argv = this.#leaseArguments(now);
    for (const record of this.#records.values()) {
      const sent = record.used - record.sending;
      const keep = record.held + record.pending;
      const active = record.active;
      record.active = false;
      const giveBack = (everything || !active || now < record.recalledUntil) && record.granted > keep;
      if (sent === 0n && !giveBack && keep === record.reported && now < record.renewAt) {
        const empty = record.granted === 0n && record.held === 0n && record.used === 0n && record.pending === 0n;
        if (empty && !active) this.#records.delete(record.bucket);
        continue;
      }
      calls.push(addLeaseCall(argv, record, { trim: giveBack, limit: '', amount: 0n, want: 0n }, now));
      // Many active keys make many buckets: one script per batch keeps each short, so Redis never stalls on one.
      if (calls.length === FLUSH_BATCH_BUCKETS) {
        batches.push(this.#writeBatch(calls, argv, now));
        calls = [];
        argv = this.#leaseArguments(now);
      }
    }
    if (calls.length > 0) batches.push(this.#writeBatch(calls, argv, now));
    await Promise.all(batches);
  }

  /** Sends one flush batch and applies its reply; a failure is reported and the usage kept for the next flush. */
  async #writeBatch(calls: LeaseCall[], argv: string[], now: number): Promise<void> {
    let reply: LeaseReply;
    try {
      reply = await runCounterCommand(() => this.#commands.tollgateCountersLease(...argv));
    } catch (error) {
      for (const call of calls) leaseCallFailed(call);
      this.#onError(error);
      return;
    }
    for (const [index, call] of calls.entries()) leaseCallAnswered(call, BigInt(reply[1 + index] ?? 0), now);
  }

  /** The arguments every LEASE_SCRIPT call starts with. */
  #leaseArguments(now: number): string[] {
    return [this.#prefix, String(now), this.#leaseId, String(RECALL_COOLDOWN_MS)];
  }

  /** Another process needs this bucket's budget: free lease there goes back now, and freed amounts for a while. */
  async #giveBack(bucket: string): Promise<void> {
    if (this.#closed) return;
    const record = this.#records.get(bucket);
    if (record !== undefined) {
      record.recalledUntil = this.#now() + RECALL_COOLDOWN_MS;
      // A lease call under way may have been granted more than its request; once it has answered, what this
      // process keeps is exactly what its requests hold.
      if (record.inFlight !== undefined) await record.inFlight;
    }
    await this.flush(false);
  }

  /** Gives back the holds of expired reservations and drops the records of buckets whose window ended. */
  #expire(now: number): void {
    if (now < this.#nextSweepAt) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [name, record] of this.#records) {
      if (record.expiresAt !== undefined && record.expiresAt <= now) {
        this.#records.delete(name);
      } else if (record.expiresAt !== undefined) {
        next = Math.min(next, record.expiresAt);
      }
    }
    for (const [id, reservation] of this.#reservations) {
      if (reservation.expiresAt <= now) {
        for (const hold of reservation.holds) hold.record.held -= hold.amount;
        this.#reservations.delete(id);
      } else {
        next = Math.min(next, reservation.expiresAt);
      }
    }
    this.#nextSweepAt = next;
  }
}

type AcquireResult = { ok: true } | { ok: false; failedBucket: string; spent: number; reserved: number; limit: number; othersLeased: boolean };
