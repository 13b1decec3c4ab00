import { describe, expect, it } from 'vitest';
import { isoTimestamp } from './iso-timestamp.js';

describe('isoTimestamp', () => {
  it('is the ISO text of the moment, whatever moments came before', () => {
    const moments = [
      0,
      1,
      999,
      1000,
      1_764_892_800_000,
      1_764_892_800_007,
      1_764_892_800_070,
      1_764_892_800_700,
      1_764_892_800_999,
      1_764_892_801_000,
      1_764_892_799_999,
      -1,
      -1001,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10_000, 0, 1),
      Date.UTC(-5, 0, 1, 0, 0, 0, 5),
      1_764_892_800_000.5,
    ];
    // Each moment once after the others (a new second) and twice in a row (the kept second).
    for (const moment of [...moments, ...moments.map((moment) => [moment, moment]).flat()]) {
      expect(isoTimestamp(moment), String(moment)).toBe(new Date(moment).toISOString());
    }
  });

  it('agrees with toISOString on random moments of this century, in and out of order', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let moment = Date.UTC(2026, 11, 5);
    for (let index = 0; index < 20_000; index += 1) {
      moment = random() < 0.9 ? moment + Math.floor(random() * 400) : Math.floor(random() * 4_102_444_800_000);
      expect(isoTimestamp(moment)).toBe(new Date(moment).toISOString());
    }
  });
});
