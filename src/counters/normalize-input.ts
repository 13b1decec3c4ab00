import { errors } from '../spec/errors.js';
import type { ReserveInput } from './limit-counters.js';
import { toNanoUnits } from './nano-units.js';

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
  const byBucket = new Map<string, NormalizedCheck>();
  for (const check of input.checks) {
    requireName(check.bucket, 'bucket');
    const expiresAt = normalizeExpiresAt(check.expiresAt);
    const limit = toNanoUnits(check.limit, `the limit of ${check.bucket}`);
    const amount = toNanoUnits(check.amount, `the amount for ${check.bucket}`);
    const previous = byBucket.get(check.bucket);
    if (previous === undefined) {
      byBucket.set(check.bucket, { bucket: check.bucket, limit, amount, expiresAt });
    } else {
      previous.amount += amount;
      if (limit < previous.limit) previous.limit = limit;
      if (expiresAt !== undefined) previous.expiresAt = Math.max(expiresAt, previous.expiresAt ?? expiresAt);
    }
  }
  return { reservationId: input.reservationId, checks: [...byBucket.values()], ttlMs: input.ttlMs };
}

/** Validates the actual amounts of a settlement and converts them to nano-units. */
export function normalizeActual(actual: Record<string, number>): Map<string, bigint> {
  const result = new Map<string, bigint>();
  for (const [bucket, amount] of Object.entries(actual)) {
    result.set(bucket, toNanoUnits(amount, `the actual amount for ${bucket}`));
  }
  return result;
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
