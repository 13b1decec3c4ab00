import { errors, type GatewayError } from '../spec/errors.js';
import { MAX_LIMIT_AMOUNT } from '../spec/limit-amount.js';

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
 * exact for integers up to 2^53 (about 9e15); a cap of 1e15 per amount leaves room for sums. The management API
 * refuses larger limits by the same constant.
 */
export const MAX_AMOUNT = MAX_LIMIT_AMOUNT;

/**
 * How close (in nano-units) the binary product of a fraction and 1e9 may come to a half nano-unit before the
 * fast route below hands over to the decimal rendering. Below 2^30 every half nano-unit is itself a double and
 * rounding is monotonic, so the binary product never lands on the other side of a half than the exact product;
 * it can land exactly on one (1.5e-9 * 1e9 gives 1.5 though 1.5e-9 is slightly below it), and only the decimal
 * route settles those. The margin around the half costs one amount in 500,000 a slow conversion and keeps the
 * fast route right even if that argument had a flaw; the property test against the decimal route checks it.
 */
const HALF_MARGIN = 1e-6;

/** True for the amounts the counters accept: finite numbers from 0 to {@link MAX_AMOUNT}. */
export function isAmount(value: unknown): value is number {
  // NaN fails both comparisons, and infinities fail one of them, so no separate finiteness test is needed.
  return typeof value === 'number' && value >= 0 && value <= MAX_AMOUNT;
}

/** The error for an amount {@link isAmount} refuses; `what` names it, e.g. "the amount for usage:k:w:usd". */
export function invalidAmount(what: string): GatewayError {
  return errors.internal(`Limit counters: ${what} must be a finite number between 0 and ${MAX_AMOUNT}.`, {
    code: 'limit_counter_invalid_amount',
  });
}

/**
 * Converts a non-negative finite number to nano-units, rounding to the nearest nano-unit (a tie goes up). The
 * result is that of the exact decimal value of the double, not of a multiplication by 1e9 in binary (which
 * itself rounds), so that 0.1 becomes exactly 100000000.
 *
 * This runs about twenty times per request (every limit and amount of a reservation and its settlement), so
 * integers, nearly all of them, take a shortcut, and fractions are split into whole units and a fraction whose
 * scaled value is rounded in binary whenever that provably gives the exact answer.
 *
 * `what` and `subject` name the amount in the error message (joined by a space); the message is only built
 * when the amount is refused, so callers pass the parts rather than a string built on every call.
 */
export function toNanoUnits(value: number, what: string, subject?: string): bigint {
  if (!isAmount(value)) throw invalidAmount(subject === undefined ? what : `${what} ${subject}`);
  // Every integer up to MAX_AMOUNT is a safe integer, so this covers all whole amounts (tokens, requests, limits).
  if (Number.isSafeInteger(value)) return wholeNanoUnits(value);
  const whole = Math.floor(value);
  // Exact in binary: a double minus its integer part loses no bits.
  const fraction = value - whole;
  const scaled = fraction * 1e9;
  const below = Math.floor(scaled);
  // Near a half nano-unit the binary product may sit on the other side of the half than the exact one would.
  if (Math.abs(scaled - below - 0.5) < HALF_MARGIN) return decimalNanoUnits(value);
  const nanoUnits = scaled - below < 0.5 ? below : below + 1;
  return whole === 0 ? BigInt(nanoUnits) : BigInt(whole) * NANO_UNITS_PER_UNIT + BigInt(nanoUnits);
}

/** Whole amounts below this are converted once, at load: requests, concurrency and most token counts. */
const SMALL_WHOLE_AMOUNTS = 4096;
const smallWholeNanoUnits: readonly bigint[] = Array.from({ length: SMALL_WHOLE_AMOUNTS }, (_, amount) => BigInt(amount) * NANO_UNITS_PER_UNIT);
/** Larger whole amounts seen lately, i.e. the limits, which every request of a key converts again. */
const largeWholeNanoUnits = new Map<number, bigint>();
const MAX_REMEMBERED_LARGE_AMOUNTS = 4096;

/**
 * A whole amount in nano-units. A BigInt is a heap object and each conversion made two, twenty times a request;
 * BigInts are immutable, so the same value can be handed out again.
 */
function wholeNanoUnits(value: number): bigint {
  if (value < SMALL_WHOLE_AMOUNTS) return smallWholeNanoUnits[value]!;
  let units = largeWholeNanoUnits.get(value);
  if (units === undefined) {
    units = BigInt(value) * NANO_UNITS_PER_UNIT;
    // Token counts of large requests pass here too: a bounded memo cannot grow without end.
    if (largeWholeNanoUnits.size >= MAX_REMEMBERED_LARGE_AMOUNTS) largeWholeNanoUnits.clear();
    largeWholeNanoUnits.set(value, units);
  }
  return units;
}

/** The exact conversion through the decimal rendering, for the rare values the fast route cannot decide. */
function decimalNanoUnits(value: number): bigint {
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
