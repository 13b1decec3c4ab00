import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './time-ordered-id.js';

const uuidVersion7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a version 7 UUID whose first 48 bits are the time in milliseconds', () => {
    const now = Date.UTC(2026, 11, 3, 8, 40, 0, 123);
    const id = timeOrderedId(now);
    expect(id).toMatch(uuidVersion7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts ids of later milliseconds after earlier ones, as text', () => {
    const ids = [0, 1, 255, 256, 1_700_000_000_000, 1_800_000_000_000, 2 ** 48 - 1].map((time) => timeOrderedId(time));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs between ids of the same millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(now)));
    expect(ids.size).toBe(10_000);
  });

  it('draws every random digit from all sixteen values, and the variant digit from 8, 9, a and b', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let index = 0; index < 5_000; index += 1) {
      const id = timeOrderedId(1_764_892_800_000);
      for (let position = 0; position < 36; position += 1) seen[position]!.add(id[position]!);
    }
    const randomPositions = [15, 16, 17, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35];
    for (const position of randomPositions) expect(seen[position]!.size, `position ${position}`).toBe(16);
    expect([...seen[19]!].sort()).toEqual(['8', '9', 'a', 'b']);
    expect([...seen[14]!]).toEqual(['7']);
    for (const position of [8, 13, 18, 23]) expect([...seen[position]!]).toEqual(['-']);
  });

  it('keeps the time digits of each id when ids of other milliseconds come between', () => {
    const times = [1_764_892_800_000, 1, 2 ** 48 - 1, 1_764_892_800_000, 0];
    for (const time of times) {
      const id = timeOrderedId(time);
      expect(id).toMatch(uuidVersion7);
      expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(time);
    }
  });
});
