import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redisTestRun } from '../../test/support/redis-keys.js';
import { redisUrl, skipWithout } from '../../test/support/services.js';
import { LeasedCounters } from './leased-counters.js';
import type { ReserveResult } from './limit-counters.js';
import { MemoryCounters } from './memory-counters.js';

const MINUTE = 60_000;
const suite = 'LeasedCounters across processes';
const skipRedis = skipWithout('Redis', suite);
const { runPrefix, admin } = redisTestRun(skipRedis);

/** A small seeded generator, so a failing sequence can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe.skipIf(skipRedis)(suite, () => {
  let keyPrefix: string;
  let time: number;
  const now = (): number => time;
  let processes: LeasedCounters[];
  let clients: Redis[];

  /** A gateway process's counters: its own connections, this test's key prefix and clock. */
  async function start(): Promise<LeasedCounters> {
    const client = new Redis(redisUrl);
    clients.push(client);
    const counters = await LeasedCounters.create({ client, keyPrefix, now, ownsClient: true });
    processes.push(counters);
    return counters;
  }

  const reserve = (counters: LeasedCounters, reservationId: string, amount: number, limit = 100): Promise<ReserveResult> =>
    counters.reserve({ reservationId, checks: [{ bucket: 'usd', limit, amount }], ttlMs: MINUTE });
  const hash = (field: string) => admin!.hget(`${keyPrefix}bucket:usd`, field);

  beforeEach(() => {
    keyPrefix = `${runPrefix}${randomUUID()}:`;
    time = Date.now();
    processes = [];
    clients = [];
  });
  afterEach(async () => {
    await Promise.all(processes.map((counters) => counters.close()));
  });

  it('reserves and settles within its lease without a Redis round trip, and writes the usage in one call', async () => {
    const counters = await start();
    const lease = vi.spyOn(clients[0] as unknown as { tollgateCountersLease: () => Promise<unknown> }, 'tollgateCountersLease');
    expect(await reserve(counters, 'first', 1)).toEqual({ ok: true });
    expect(lease).toHaveBeenCalledTimes(1);
    // The first call leased 1 + a quarter of the 99 left (25.75), so the next requests of 1 fit without Redis; once
    // less than 16 requests' worth is free, one top-up is sent in the background, and no request waits for it.
    for (let index = 0; index < 15; index += 1) {
      expect(await reserve(counters, `r${index}`, 1)).toEqual({ ok: true });
      expect(await counters.settle(`r${index}`, { usd: 0.5 })).toEqual({ settled: true });
    }
    expect(lease).toHaveBeenCalledTimes(1);
    for (let index = 15; index < 20; index += 1) {
      expect(await reserve(counters, `r${index}`, 1)).toEqual({ ok: true });
      expect(await counters.settle(`r${index}`, { usd: 0.5 })).toEqual({ settled: true });
    }
    expect(lease).toHaveBeenCalledTimes(2);
    await counters.flush();
    expect(lease).toHaveBeenCalledTimes(3);
    expect(await hash('spent')).toBe('10000000000');
  });

  it('counts a bucket without a limit of its own (amount 0) within the lease call of the limited one, and no more calls', async () => {
    const counters = await start();
    const lease = vi.spyOn(clients[0] as unknown as { tollgateCountersLease: () => Promise<unknown> }, 'tollgateCountersLease');
    const checks = [{ bucket: 'usd', limit: 100, amount: 1 }, { bucket: 'tokens', limit: 1e15, amount: 0 }];
    for (let index = 0; index < 10; index += 1) {
      expect(await counters.reserve({ reservationId: `r${index}`, checks, ttlMs: MINUTE })).toEqual({ ok: true });
      expect(await counters.settle(`r${index}`, { usd: 0.5, tokens: 1000 })).toEqual({ settled: true });
    }
    expect(lease).toHaveBeenCalledTimes(1);
    expect(await counters.read(['usd', 'tokens'])).toEqual([{ spent: 5, reserved: 0 }, { spent: 10_000, reserved: 0 }]);
  });

  it('takes back other processes’ free leases when a request does not fit otherwise', async () => {
    const first = await start();
    const second = await start();
    expect(await reserve(first, 'a', 1)).toEqual({ ok: true });
    expect(await hash('leased')).toBe('25750000000');
    // 74.25 are left beside the first process's lease; the 80 fit only once its free 24.75 come back.
    expect(await reserve(second, 'b', 80)).toEqual({ ok: true });
    expect(await reserve(first, 'c', 19)).toEqual({ ok: true });
    expect(await reserve(first, 'd', 0.000000001)).toMatchObject({ ok: false, failedBucket: 'usd', spent: 0, reserved: 100 });
    expect(await reserve(second, 'e', 0.000000001)).toMatchObject({ ok: false, failedBucket: 'usd', spent: 0, reserved: 100 });
  });

  it('shows other processes’ requests in flight at once, and their usage once they flush', async () => {
    const first = await start();
    const second = await start();
    expect(await reserve(first, 'a', 5)).toEqual({ ok: true });
    expect(await second.read(['usd'])).toEqual([{ spent: 0, reserved: 5 }]);
    await first.settle('a', { usd: 3 });
    expect(await first.read(['usd'])).toEqual([{ spent: 3, reserved: 0 }]);
    await first.flush();
    expect(await second.read(['usd'])).toEqual([{ spent: 3, reserved: 0 }]);
  });

  it('gives a lease back after a whole flush interval without reservations, and every lease when closing', async () => {
    const counters = await start();
    expect(await reserve(counters, 'a', 1)).toEqual({ ok: true });
    await counters.settle('a', { usd: 1 });
    await counters.flush();
    expect(await hash('leased')).not.toBe('0');
    await counters.flush();
    expect(await hash('leased')).toBe('0');
    expect(await reserve(counters, 'b', 1)).toEqual({ ok: true });
    expect(await hash('leased')).not.toBe('0');
    await counters.settle('b', { usd: 0 });
    await counters.close();
    expect(await hash('leased')).toBe('0');
    expect(await hash('reserved')).toBe('0');
    expect(await hash('spent')).toBe('1000000000');
  });

  it('checks a lowered limit in Redis instead of within the lease taken under the higher one', async () => {
    const counters = await start();
    expect(await reserve(counters, 'a', 1, 100)).toEqual({ ok: true });
    expect(await reserve(counters, 'b', 1, 2)).toEqual({ ok: true });
    expect(await reserve(counters, 'c', 1, 2)).toMatchObject({ ok: false, spent: 0, reserved: 2, limit: 2 });
  });

  it('never lets two processes racing on one bucket exceed its limit, nor refuse what fits', async () => {
    const first = await start();
    const second = await start();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        (index % 2 === 0 ? first : second).reserve({
          reservationId: `r${index}`,
          checks: [{ bucket: 'usd', limit: 2.5, amount: 0.1 }, { bucket: 'requests', limit: 1000, amount: 1 }],
          ttlMs: MINUTE,
        }),
      ),
    );
    const winners = results.flatMap((result, index) => (result.ok ? [index] : []));
    expect(winners).toHaveLength(25);
    await Promise.all(winners.map((index) => (index % 2 === 0 ? first : second).settle(`r${index}`, { usd: 0.1, requests: 1 })));
    await Promise.all([first.flush(), second.flush()]);
    expect(await first.read(['usd', 'requests'])).toEqual([{ spent: 2.5, reserved: 0 }, { spent: 25, reserved: 0 }]);
  });

  it('serves exactly the limit to bursts over two processes whose requests settle as they finish', async () => {
    const first = await start();
    const second = await start();
    for (let round = 0; round < 20; round += 1) {
      const bucket = `requests-${round}`;
      const served = await Promise.all(
        Array.from({ length: 40 }, async (_, index) => {
          const gateway = index % 2 === 0 ? first : second;
          const id = `${bucket}-${index}`;
          const result = await gateway.reserve({ reservationId: id, checks: [{ bucket, limit: 10, amount: 1 }], ttlMs: MINUTE });
          // Held for a while, as a request waits for its upstream, while the other requests come and go.
          if (result.ok) await new Promise((resolve) => setTimeout(resolve, index % 7));
          if (result.ok) await gateway.settle(id, { [bucket]: 1 });
          return result.ok;
        }),
      );
      expect({ round, served: served.filter(Boolean).length }).toEqual({ round, served: 10 });
    }
  });

  it('never holds more than the limit under random concurrent bursts over three processes', async () => {
    const gateways = [await start(), await start(), await start()];
    const random = seeded(4242);
    const limit = 30;
    let settledSpend = 0;
    let live: Array<{ id: string; gateway: LeasedCounters; amount: number }> = [];
    for (let round = 0; round < 40; round += 1) {
      const burst = Array.from({ length: 1 + Math.floor(random() * 24) }, (_, index) => ({
        id: `b${round}-${index}`,
        gateway: gateways[Math.floor(random() * gateways.length)]!,
        amount: Math.round(random() * 3000) / 1000,
      }));
      const settling = live.filter(() => random() < 0.5);
      live = live.filter((entry) => !settling.includes(entry));
      const [results] = await Promise.all([
        Promise.all(burst.map((entry) => reserve(entry.gateway, entry.id, entry.amount, limit))),
        Promise.all(
          settling.map((entry) => {
            const actual = Math.round(entry.amount * random() * 1000) / 1000;
            settledSpend += actual;
            return entry.gateway.settle(entry.id, { usd: actual });
          }),
        ),
      ]);
      burst.forEach((entry, index) => {
        if (results[index]!.ok) live.push(entry);
      });
      const held = live.reduce((sum, entry) => sum + entry.amount, 0);
      expect(settledSpend + held).toBeLessThanOrEqual(limit + 1e-9);
    }
    await Promise.all(gateways.map((gateway) => gateway.flush()));
    const [state] = await gateways[0]!.read(['usd']);
    expect(state!.spent).toBeCloseTo(settledSpend, 9);
  });

  it('answers every step of a random sequence over three processes exactly as one in-memory counter does', async () => {
    const gateways = [await start(), await start(), await start()];
    const reference = new MemoryCounters({ now });
    const random = seeded(20261204);
    const live: Array<{ id: string; gateway: LeasedCounters; amount: number }> = [];
    const limits = { usd: 50, requests: 12 };
    for (let step = 0; step < 300; step += 1) {
      if (live.length > 0 && random() < 0.45) {
        const [settled] = live.splice(Math.floor(random() * live.length), 1);
        const actual = { usd: Math.round(settled!.amount * random() * 1000) / 1000, requests: 1 };
        expect(await settled!.gateway.settle(settled!.id, actual)).toEqual(await reference.settle(settled!.id, actual));
      } else {
        const gateway = gateways[Math.floor(random() * gateways.length)]!;
        const amount = Math.round(random() * 12_000) / 1000;
        const input = {
          reservationId: `s${step}`,
          checks: [{ bucket: 'usd', limit: limits.usd, amount }, { bucket: 'requests', limit: limits.requests, amount: 1 }],
          ttlMs: MINUTE,
        };
        const expected = await reference.reserve(input);
        const result = await gateway.reserve(input);
        expect({ step, ok: result.ok }).toEqual({ step, ok: expected.ok });
        if (result.ok) live.push({ id: input.reservationId, gateway, amount });
      }
      if (step % 50 === 49) {
        await Promise.all(gateways.map((gateway) => gateway.flush()));
        expect(await gateways[step % 3]!.read(['usd', 'requests'])).toEqual(await reference.read(['usd', 'requests']));
      }
    }
  });
});
