import { expiryArgument } from './redis-counters.js';

/** What this process holds of one bucket: its lease in Redis and how its own requests use it. See LeasedCounters. */
export interface LeaseRecord {
  readonly bucket: string;
  /** The limit the lease was last granted under; a request with another limit goes to Redis. */
  limit: bigint | undefined;
  expiresAt: number | undefined;
  /** The lease Redis holds for this process, as of the last reply processed (replies come in command order). */
  granted: bigint;
  /** Held by this process's live reservations. */
  held: bigint;
  /** Settled usage not yet written to Redis, of which `sending` is on its way. */
  used: bigint;
  sending: bigint;
  /** Amounts of acquisitions sent whose replies are not processed: they must not be given back meanwhile. */
  pending: bigint;
  /** What Redis was last told this process's requests hold here (shown to other processes' reads). */
  reported: bigint;
  /** The lease may be used locally until then; renewed (and written) from renewAt on. */
  validUntil: number;
  renewAt: number;
  /** The longest reservation ttl seen: a lease lives as long as any reservation it holds could. */
  ttlMs: number;
  /** Reserved on since the last flush; a lease idle for a whole flush interval goes back. */
  active: boolean;
  /** The lease call under way for this bucket, if any: a request that does not fit waits for it before its own. */
  inFlight: Promise<unknown> | undefined;
  /**
   * Calls under way that give back what is free here. The local view of the lease is Redis's as of the last reply;
   * one of these calls may already have given back part of it in Redis, so until they answer nothing is held locally.
   */
  trimming: number;
  /** When what is free falls below this (16 of the last request's amount), the lease is topped up. */
  topUpBelow: bigint;
  /** Until then, another process asked for the bucket's leases back: whatever is freed goes back at once. */
  recalledUntil: number;
}

export interface LocalHold {
  record: LeaseRecord;
  amount: bigint;
}

export interface LocalReservation {
  expiresAt: number;
  holds: LocalHold[];
}

/** A record for a bucket this process has not leased yet: nothing granted, not valid until Redis answers. */
export function newLeaseRecord(bucket: string, expiresAt: number | undefined, ttlMs: number): LeaseRecord {
  return {
    bucket,
    limit: undefined,
    expiresAt,
    granted: 0n,
    held: 0n,
    used: 0n,
    sending: 0n,
    pending: 0n,
    reported: 0n,
    validUntil: 0,
    renewAt: 0,
    ttlMs,
    active: true,
    inFlight: undefined,
    trimming: 0,
    topUpBelow: 0n,
    recalledUntil: 0,
  };
}

/** What is free in a lease: granted, less what requests hold and what was settled but not yet written. */
export function freeOf(record: LeaseRecord): bigint {
  return record.granted - record.held - record.used;
}

/** A lease is used locally only until this long before Redis would give it back unrenewed (clock skew). */
const VALIDITY_MARGIN_MS = 1_000;

/** One bucket's part of a LEASE_SCRIPT call, kept to apply the reply. */
export interface LeaseCall {
  record: LeaseRecord;
  /** Settled usage the call writes. */
  sent: bigint;
  /** The request's amount the call may be granted. */
  amount: bigint;
  /** What the call tells Redis this process's requests hold. */
  inUse: bigint;
  /** Whether the call gives back what is free: until its reply, nothing may be held out of what it gives back. */
  trims: boolean;
}

/** What one bucket's part of a LEASE_SCRIPT call asks besides writing the usage. */
export interface LeaseAsk {
  /** Give back what is free beyond what this process's requests hold (or may be granted by calls already sent). */
  trim: boolean;
  /** The limit the amount is checked against, as a script argument ('' when nothing is checked). */
  limit: string;
  amount: bigint;
  /** More lease wanted for the next requests. */
  want: bigint;
}

/**
 * Appends a bucket's nine LEASE_SCRIPT arguments to `argv` and marks on the record what the call carries until its
 * reply: the usage it writes, the amount it may be granted and whether it gives back what is free.
 */
export function addLeaseCall(argv: string[], record: LeaseRecord, ask: LeaseAsk, now: number): LeaseCall {
  const sent = record.used - record.sending;
  const keep = record.held + record.pending;
  argv.push(record.bucket, sent.toString(), ask.trim ? keep.toString() : '', ask.limit, ask.amount.toString(), ask.want.toString());
  argv.push(expiryArgument(record.expiresAt), String(now + record.ttlMs), keep.toString());
  record.sending += sent;
  record.pending += ask.amount;
  if (ask.trim) record.trimming += 1;
  return { record, sent, amount: ask.amount, inUse: keep, trims: ask.trim };
}

/** Takes back what a failed call marked on its record: its usage is written by a later call. */
export function leaseCallFailed(call: LeaseCall): void {
  call.record.sending -= call.sent;
  call.record.pending -= call.amount;
  if (call.trims) call.record.trimming -= 1;
}

/** Applies Redis's answer for one bucket: its usage written, its lease as Redis now holds it. */
export function leaseCallAnswered(call: LeaseCall, lease: bigint, sentAt: number): void {
  const record = call.record;
  record.pending -= call.amount;
  if (call.trims) record.trimming -= 1;
  record.used -= call.sent;
  record.sending -= call.sent;
  record.reported = call.inUse;
  record.granted = lease;
  record.validUntil = sentAt + record.ttlMs - VALIDITY_MARGIN_MS;
  record.renewAt = sentAt + record.ttlMs / 4;
}
