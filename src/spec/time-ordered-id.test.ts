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
});
