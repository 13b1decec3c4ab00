import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCounters } from './memory-counters.js';

describe('MemoryCounters sweep timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs only when asked for and stops on close', async () => {
    vi.useFakeTimers();
    const withoutTimer = new MemoryCounters();
    expect(vi.getTimerCount()).toBe(0);
    const withTimer = new MemoryCounters({ sweepIntervalMs: 1_000 });
    expect(vi.getTimerCount()).toBe(1);
    await withTimer.close();
    await withoutTimer.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives back expired reservations when the timer fires', async () => {
    vi.useFakeTimers();
    let time = 1_000_000;
    const counters = new MemoryCounters({ now: () => time, sweepIntervalMs: 1_000 });
    await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 1, amount: 1 }], ttlMs: 500 });
    // Looked at from inside: every public method sweeps by itself, so only the internals show the timer's work.
    const internals = counters as unknown as { reservations: Map<string, unknown>; buckets: Map<string, { reserved: bigint }> };
    time += 500;
    vi.advanceTimersByTime(999);
    expect(internals.reservations.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(internals.reservations.size).toBe(0);
    expect(internals.buckets.get('b')?.reserved).toBe(0n);
    await counters.close();
  });
});

describe('MemoryCounters answers', () => {
  const check = { bucket: 'b', limit: 2, amount: 1 };

  it('reserves and settles at once, without a promise', () => {
    const counters = new MemoryCounters();
    const reserved = counters.reserve({ reservationId: 'r', checks: [check], ttlMs: 60_000 });
    expect(reserved).not.toBeInstanceOf(Promise);
    expect(reserved).toEqual({ ok: true });
    const settled = counters.settle('r', { b: 1 });
    expect(settled).not.toBeInstanceOf(Promise);
    expect(settled).toEqual({ settled: true });
    expect(counters.settle('r', { b: 1 })).toEqual({ settled: false });
  });

  it('refuses bad input with a rejected promise, never a throw', async () => {
    const counters = new MemoryCounters();
    const badAmount = counters.reserve({ reservationId: 'r', checks: [{ ...check, amount: -1 }], ttlMs: 60_000 });
    expect(badAmount).toBeInstanceOf(Promise);
    await expect(badAmount).rejects.toMatchObject({ code: 'limit_counter_invalid_amount' });
    const badSettlement = counters.settle('', { b: 1 });
    expect(badSettlement).toBeInstanceOf(Promise);
    await expect(badSettlement).rejects.toMatchObject({ code: 'limit_counter_invalid_input' });
  });
});
