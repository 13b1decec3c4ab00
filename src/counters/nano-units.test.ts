import { describe, expect, it } from 'vitest';
import { fromNanoUnits, isAmount, MAX_AMOUNT, NANO_UNITS_PER_UNIT, toNanoUnits } from './nano-units.js';

/** The original conversion, entirely through the decimal rendering: the definition the fast routes must match. */
function referenceNanoUnits(value: number): bigint {
  const [whole = '0', fraction = ''] = value.toFixed(9).split('.');
  return BigInt(whole) * NANO_UNITS_PER_UNIT + BigInt(fraction.padEnd(9, '0'));
}

/** A seeded generator (mulberry32), so a failure names a value that can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The next double above or below a positive one. */
function neighbour(value: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(direction));
  return view.getFloat64(0);
}

describe('nano-units', () => {
  it('converts decimal amounts exactly, not through binary multiplication', () => {
    expect(toNanoUnits(0.1, 'amount')).toBe(100_000_000n);
    expect(toNanoUnits(0.3, 'amount')).toBe(300_000_000n);
    // 1.005 * 1e9 is 1004999999.9999999 in binary; the decimal route still gives the intended value.
    expect(toNanoUnits(1.005, 'amount')).toBe(1_005_000_000n);
    expect(toNanoUnits(2e-8, 'amount')).toBe(20n);
    expect(toNanoUnits(123_456_789_012, 'amount')).toBe(123_456_789_012_000_000_000n);
    expect(toNanoUnits(0, 'amount')).toBe(0n);
    expect(toNanoUnits(-0, 'amount')).toBe(0n);
  });

  it('rounds below a nano-unit to the nearest one', () => {
    expect(toNanoUnits(1.4e-10, 'amount')).toBe(0n);
    expect(toNanoUnits(1.6e-9, 'amount')).toBe(2n);
  });

  it('rounds an exact half nano-unit up, as the decimal rendering does', () => {
    // 1/1024 is exactly 976562.5 nano-units: a true tie, which only the decimal route can settle.
    expect(toNanoUnits(1 / 1024, 'amount')).toBe(976_563n);
    expect(toNanoUnits(7 + 3 / 1024, 'amount')).toBe(7_002_929_688n);
    expect(toNanoUnits(neighbour(1 / 1024, -1), 'amount')).toBe(976_562n);
    // These doubles lie just below or above the half although multiplying by 1e9 in binary gives it exactly.
    expect(toNanoUnits(1.5e-9, 'amount')).toBe(1n);
    expect(toNanoUnits(2.5e-9, 'amount')).toBe(3n);
    expect(toNanoUnits(3.5e-9, 'amount')).toBe(3n);
  });

  it('agrees with the decimal rendering on random amounts of every size', () => {
    const random = seededRandom(20_261_123);
    const generators: Array<() => number> = [
      // Fractions below one, where request costs live.
      () => random(),
      // Tiny amounts around a single token's price, down to well below a nano-unit.
      () => random() * 1e-7,
      () => random() * 1e-9 * 4,
      // Decimals with a few to many digits, as prices and limits are typed.
      () => Math.round(random() * 10 ** (1 + Math.floor(random() * 12))) / 10 ** Math.floor(random() * 13),
      // Any magnitude up to the cap, with a random mantissa.
      () => random() * 10 ** (Math.floor(random() * 31) - 15),
      // Near the cap, where the whole part is large and the fraction has few bits left.
      () => MAX_AMOUNT - random() * 1e6,
      () => random() * 1e9,
      // Close to a half nano-unit, and the doubles on either side of it.
      () => {
        const half = (Math.floor(random() * 1e12) + 0.5) / 1e9;
        return [half, neighbour(half, 1), neighbour(half, -1)][Math.floor(random() * 3)]!;
      },
      // The same below one unit, where neighbouring doubles are closer together than the binary product's error.
      () => {
        let value = (Math.floor(random() * 10 ** Math.floor(random() * 9)) + 0.5) / 1e9;
        for (let step = Math.floor(random() * 7) - 3; step !== 0; step -= Math.sign(step)) value = neighbour(value, step > 0 ? 1 : -1);
        return value;
      },
      // Exact binary ties: odd multiples of 1/1024 give a product ending in exactly .5 nano-units.
      () => (Math.floor(random() * 1e9) * 2 + 1) / 1024,
    ];
    let compared = 0;
    for (const generate of generators) {
      for (let index = 0; index < 40_000; index += 1) {
        const value = generate();
        if (!isAmount(value)) continue;
        const expected = referenceNanoUnits(value);
        const actual = toNanoUnits(value, 'amount');
        if (actual !== expected) expect({ value, actual }).toEqual({ value, actual: expected });
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(generators.length * 39_000);
  });

  it('converts whole amounts exactly, the ones it converted before and the ones it forgot alike', () => {
    const wholes = [0, 1, 4095, 4096, 4097, 16_384, 100_000, 1e8, 1e9, 1e12, MAX_AMOUNT];
    // More distinct large amounts than it remembers, twice over, then the first ones again.
    for (let index = 0; index < 10_000; index += 1) wholes.push(5_000 + index * 7);
    for (const value of [...wholes, ...wholes.slice(0, 20)]) {
      expect(toNanoUnits(value, 'amount')).toBe(BigInt(value) * 1_000_000_000n);
    }
  });

  it('round-trips to the same number', () => {
    for (const value of [0, 0.1, 0.3, 3, 1.005, 2e-8, 999_999_999_999, 0.123456789, MAX_AMOUNT]) {
      expect(fromNanoUnits(toNanoUnits(value, 'amount'))).toBe(value);
    }
    expect(fromNanoUnits(30n * 100_000_000n)).toBe(3);
  });

  it('rejects amounts it cannot hold exactly', () => {
    for (const value of [-0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_AMOUNT * 10, '1' as unknown as number]) {
      expect(() => toNanoUnits(value, 'amount')).toThrow(/finite number between 0/);
    }
  });

  it('names the amount in its error, built only from the parts it was given', () => {
    expect(() => toNanoUnits(-1, 'the limit of', 'usage:k:w:usd')).toThrow('Limit counters: the limit of usage:k:w:usd must be');
    expect(() => toNanoUnits(-1, 'ttl')).toThrow('Limit counters: ttl must be');
  });
});
