import { describe, expect, it } from 'vitest';
import { fromNanoUnits, MAX_AMOUNT, toNanoUnits } from './nano-units.js';

describe('nano-units', () => {
  it('converts decimal amounts exactly, not through binary multiplication', () => {
    expect(toNanoUnits(0.1, 'amount')).toBe(100_000_000n);
    expect(toNanoUnits(0.3, 'amount')).toBe(300_000_000n);
    // 1.005 * 1e9 is 1004999999.9999999 in binary; the decimal route still gives the intended value.
    expect(toNanoUnits(1.005, 'amount')).toBe(1_005_000_000n);
    expect(toNanoUnits(2e-8, 'amount')).toBe(20n);
    expect(toNanoUnits(123_456_789_012, 'amount')).toBe(123_456_789_012_000_000_000n);
    expect(toNanoUnits(0, 'amount')).toBe(0n);
  });

  it('rounds below a nano-unit to the nearest one', () => {
    expect(toNanoUnits(1.4e-10, 'amount')).toBe(0n);
    expect(toNanoUnits(1.6e-9, 'amount')).toBe(2n);
  });

  it('round-trips to the same number', () => {
    for (const value of [0, 0.1, 0.3, 3, 1.005, 2e-8, 999_999_999_999, 0.123456789, MAX_AMOUNT]) {
      expect(fromNanoUnits(toNanoUnits(value, 'amount'))).toBe(value);
    }
    expect(fromNanoUnits(30n * 100_000_000n)).toBe(3);
  });

  it('rejects amounts it cannot hold exactly', () => {
    for (const value of [-0.1, Number.NaN, Number.POSITIVE_INFINITY, MAX_AMOUNT * 10]) {
      expect(() => toNanoUnits(value, 'amount')).toThrow(/finite number between 0/);
    }
  });
});
