import { errors } from '../spec/errors.js';
import type { ReserveInput } from './limit-counters.js';
import { invalidAmount, isAmount, toNanoUnits } from './nano-units.js';

/** A check validated and converted to nano-units, one per bucket. */
export interface NormalizedCheck {
  bucket: string;
  limit: bigint;
  amount: bigint;
  expiresAt: number | undefined;
}

/** A reservation request validated and converted, ready for either implementation. */
export interface NormalizedReservation {
  reservationId: string;
  checks: NormalizedCheck[];
  ttlMs: number;
}

/**
 * Validates a reservation and merges checks that name the same bucket: their amounts add up (both are held)
 * and the lowest limit applies (the total must respect every limit). Both implementations use this, so
 * they accept and reject exactly the same inputs.
 */
export function normalizeReservation(input: ReserveInput): NormalizedReservation {
  requireName(input.reservationId, 'reservationId');
  if (!Number.isFinite(input.ttlMs) || input.ttlMs <= 0) {
    throw invalid('ttlMs must be a positive finite number of milliseconds.');
  }
  const checks: NormalizedCheck[] = [];
  for (const check of input.checks) {
    requireName(check.bucket, 'bucket');
    const expiresAt = normalizeExpiresAt(check.expiresAt);
    const limit = toNanoUnits(check.limit, 'the limit of', check.bucket);
    const amount = toNanoUnits(check.amount, 'the amount for', check.bucket);
    const previous = sameBucket(checks, check.bucket);
    if (previous === undefined) {
      checks.push({ bucket: check.bucket, limit, amount, expiresAt });
    } else {
      previous.amount += amount;
      if (limit < previous.limit) previous.limit = limit;
      if (expiresAt !== undefined) previous.expiresAt = Math.max(expiresAt, previous.expiresAt ?? expiresAt);
    }
  }
  return { reservationId: input.reservationId, checks, ttlMs: input.ttlMs };
}

/**
 * The check already made for a bucket, if any. A reservation has a handful of checks (six for a key with every
 * limit), where a linear scan is cheaper than building a map on every request.
 */
function sameBucket(checks: NormalizedCheck[], bucket: string): NormalizedCheck | undefined {
  for (const check of checks) if (check.bucket === bucket) return check;
  return undefined;
}

/** Validates the actual amounts of a settlement and converts them to nano-units. */
export function normalizeActual(actual: Record<string, number>): Map<string, bigint> {
  const result = new Map<string, bigint>();
  for (const [bucket, amount] of Object.entries(actual)) {
    result.set(bucket, toNanoUnits(amount, 'the actual amount for', bucket));
  }
  return result;
}

/**
 * Throws unless every actual amount of a settlement is one the counters accept, converting none of them: for a
 * caller that converts only the amounts of buckets it finds, yet must refuse the same inputs as
 * {@link normalizeActual}.
 */
export function requireActualAmounts(actual: Record<string, number>): void {
  for (const bucket of Object.keys(actual)) {
    if (!isAmount(actual[bucket])) throw invalidAmount(`the actual amount for ${bucket}`);
  }
}

/** Validates an optional bucket expiry (milliseconds since the epoch). */
export function normalizeExpiresAt(expiresAt: number | undefined): number | undefined {
  if (expiresAt === undefined) return undefined;
  if (!Number.isFinite(expiresAt)) throw invalid('expiresAt must be a finite number of milliseconds.');
  return Math.ceil(expiresAt);
}

/** Throws unless the value is a non-empty string. */
export function requireName(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${what} must be a non-empty string.`);
}

function invalid(message: string) {
  return errors.internal(`Limit counters: ${message}`, { code: 'limit_counter_invalid_input' });
}
