import { errors } from '../spec/errors.js';

/**
 * Amounts are stored as integers of nano-units (1e-9). Floating-point sums drift (0.1 added 30 times is
 * 3.0000000000000004, which would fail a limit of 3); integer sums do not. Nine decimals keep the cost of a
 * single token of the cheapest models (about 2e-8 USD) exact, and every amount with at most nine decimals
 * (USD, tokens, requests) converts without loss.
 */
export const NANO_UNITS_PER_UNIT = 1_000_000_000n;

const DECIMALS = 9;

/**
 * Largest amount accepted. The Redis scripts keep whole units and nano-units in two Lua doubles, which are
 * exact for integers up to 2^53 (about 9e15); a cap of 1e15 per amount leaves room for sums.
 */
export const MAX_AMOUNT = 1e15;

/**
 * Converts a non-negative finite number to nano-units, rounding to the nearest nano-unit. The decimal
 * rendering of the double is used (not multiplication by 1e9, which itself rounds in binary) so that
 * 0.1 becomes exactly 100000000.
 */
export function toNanoUnits(value: number, what: string): bigint {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_AMOUNT) {
    throw errors.internal(`Limit counters: ${what} must be a finite number between 0 and ${MAX_AMOUNT}.`, {
      code: 'limit_counter_invalid_amount',
    });
  }
  const [whole = '0', fraction = ''] = value.toFixed(DECIMALS).split('.');
  return BigInt(whole) * NANO_UNITS_PER_UNIT + BigInt(fraction.padEnd(DECIMALS, '0'));
}

/** Converts nano-units back to the nearest number (exact decimal first, so 3000000000 gives 3). */
export function fromNanoUnits(units: bigint): number {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const whole = magnitude / NANO_UNITS_PER_UNIT;
  const fraction = (magnitude % NANO_UNITS_PER_UNIT).toString().padStart(DECIMALS, '0');
  const value = Number(`${whole}.${fraction}`);
  return negative ? -value : value;
}
