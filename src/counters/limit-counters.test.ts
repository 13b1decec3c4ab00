import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LimitCounters } from './limit-counters.js';
import { LeasedCounters } from './leased-counters.js';
import { MemoryCounters } from './memory-counters.js';
import { RedisCounters } from './redis-counters.js';
import { deleteRedisKeys, redisTestRun } from '../../test/support/redis-keys.js';
import { redisUrl, skipWithout } from '../../test/support/services.js';

/** A clock the tests move by hand, so expiry never depends on real time passing. */
class ManualClock {
  time = Date.now();
  readonly now = (): number => this.time;
  advance(milliseconds: number): void {
    this.time += milliseconds;
  }
}

/** Builds counters on a fresh, empty store with the given clock. */
type CountersFactory = (now: () => number) => LimitCounters | Promise<LimitCounters>;

const MINUTE = 60_000;

/** The one suite every implementation must pass. */
function describeLimitCounters(name: string, setup: () => { factory: CountersFactory; cleanup: () => Promise<void> }) {
  describe(`${name} (shared suite)`, () => {
    let clock: ManualClock;
    let counters: LimitCounters;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      clock = new ManualClock();
      const harness = setup();
      counters = await harness.factory(clock.now);
      cleanup = harness.cleanup;
    });
    afterEach(async () => {
      await counters.close();
      await cleanup();
    });

    it('lets exactly 10 of 100 concurrent reserves of 1 through a limit of 10', async () => {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          counters.reserve({ reservationId: `r${index}`, checks: [{ bucket: 'b', limit: 10, amount: 1 }], ttlMs: MINUTE }),
        ),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(10);
      expect(results.find((result) => !result.ok)).toEqual({ ok: false, failedBucket: 'b', spent: 0, reserved: 10, limit: 10 });
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 10 }]);
    });

    it('reserves nothing anywhere when one check fails, whatever its position', async () => {
      await counters.add('full', 5);
      for (const checks of [
        [{ bucket: 'full', limit: 5, amount: 1 }, { bucket: 'free', limit: 100, amount: 1 }],
        [{ bucket: 'free', limit: 100, amount: 1 }, { bucket: 'full', limit: 5, amount: 1 }],
      ]) {
        const result = await counters.reserve({ reservationId: randomUUID(), checks, ttlMs: MINUTE });
        expect(result).toEqual({ ok: false, failedBucket: 'full', spent: 5, reserved: 0, limit: 5 });
      }
      expect(await counters.read(['free', 'full'])).toEqual([{ spent: 0, reserved: 0 }, { spent: 5, reserved: 0 }]);
    });

    it('holds every bucket of a successful multi-check reservation', async () => {
      const checks = [{ bucket: 'usd', limit: 1, amount: 0.25 }, { bucket: 'requests', limit: 100, amount: 1 }];
      expect(await counters.reserve({ reservationId: 'r', checks, ttlMs: MINUTE })).toEqual({ ok: true });
      expect(await counters.read(['usd', 'requests'])).toEqual([{ spent: 0, reserved: 0.25 }, { spent: 0, reserved: 1 }]);
    });

    it('settles lower than reserved and frees the difference', async () => {
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 10, amount: 8 }], ttlMs: MINUTE });
      expect(await counters.settle('r', { b: 3 })).toEqual({ settled: true });
      expect(await counters.read(['b'])).toEqual([{ spent: 3, reserved: 0 }]);
      const fits = await counters.reserve({ reservationId: 's', checks: [{ bucket: 'b', limit: 10, amount: 7 }], ttlMs: MINUTE });
      expect(fits.ok).toBe(true);
    });

    it('settles higher than reserved by charging the actual amount', async () => {
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 10, amount: 1 }], ttlMs: MINUTE });
      expect(await counters.settle('r', { b: 4 })).toEqual({ settled: true });
      expect(await counters.read(['b'])).toEqual([{ spent: 4, reserved: 0 }]);
    });

    it('charges 0 to buckets not named in actual and ignores buckets outside the reservation', async () => {
      const checks = [{ bucket: 'a', limit: 10, amount: 2 }, { bucket: 'concurrent', limit: 3, amount: 1 }];
      await counters.reserve({ reservationId: 'r', checks, ttlMs: MINUTE });
      expect(await counters.settle('r', { a: 1, stranger: 5 })).toEqual({ settled: true });
      expect(await counters.read(['a', 'concurrent', 'stranger'])).toEqual([
        { spent: 1, reserved: 0 },
        { spent: 0, reserved: 0 },
        { spent: 0, reserved: 0 },
      ]);
    });

    it('settles once: a second settle changes nothing and says so', async () => {
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 10, amount: 2 }], ttlMs: MINUTE });
      expect(await counters.settle('r', { b: 2 })).toEqual({ settled: true });
      expect(await counters.settle('r', { b: 2 })).toEqual({ settled: false });
      expect(await counters.settle('never-reserved', { b: 2 })).toEqual({ settled: false });
      expect(await counters.read(['b'])).toEqual([{ spent: 2, reserved: 0 }]);
    });

    it('gives back an unsettled reservation when it expires, and refuses to settle it afterwards', async () => {
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 10, amount: 10 }], ttlMs: MINUTE });
      clock.advance(MINUTE - 1);
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 10 }]);
      const blocked = await counters.reserve({ reservationId: 's', checks: [{ bucket: 'b', limit: 10, amount: 1 }], ttlMs: MINUTE });
      expect(blocked.ok).toBe(false);
      clock.advance(1);
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 0 }]);
      expect(await counters.settle('r', { b: 10 })).toEqual({ settled: false });
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 0 }]);
      const fits = await counters.reserve({ reservationId: 't', checks: [{ bucket: 'b', limit: 10, amount: 10 }], ttlMs: MINUTE });
      expect(fits.ok).toBe(true);
    });

    it('gives back an expired reservation inside reserve itself, before checking', async () => {
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 1, amount: 1 }], ttlMs: MINUTE });
      clock.advance(MINUTE);
      const result = await counters.reserve({ reservationId: 's', checks: [{ bucket: 'b', limit: 1, amount: 1 }], ttlMs: MINUTE });
      expect(result).toEqual({ ok: true });
    });

    it('drops buckets once their expiresAt has passed', async () => {
      const expiresAt = clock.time + 2 * MINUTE;
      await counters.add('window', 5, expiresAt);
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'window', limit: 10, amount: 5, expiresAt }], ttlMs: 10 * MINUTE });
      clock.advance(2 * MINUTE - 1);
      expect(await counters.read(['window'])).toEqual([{ spent: 5, reserved: 5 }]);
      clock.advance(1);
      expect(await counters.read(['window'])).toEqual([{ spent: 0, reserved: 0 }]);
      const fresh = await counters.reserve({ reservationId: 's', checks: [{ bucket: 'window', limit: 10, amount: 10 }], ttlMs: MINUTE });
      expect(fresh.ok).toBe(true);
    });

    it('still charges the live buckets of a reservation when one of its windows has ended', async () => {
      const minuteEnds = clock.time + MINUTE;
      const checks = [
        { bucket: 'rpm', limit: 5, amount: 1, expiresAt: minuteEnds },
        { bucket: 'usd', limit: 5, amount: 2 },
      ];
      await counters.reserve({ reservationId: 'r', checks, ttlMs: 10 * MINUTE });
      clock.advance(MINUTE);
      expect(await counters.settle('r', { rpm: 1, usd: 1.5 })).toEqual({ settled: true });
      expect(await counters.read(['rpm', 'usd'])).toEqual([{ spent: 0, reserved: 0 }, { spent: 1.5, reserved: 0 }]);
    });

    it('gives a reservation back only to the bucket it held, not to a new bucket of the same name', async () => {
      await counters.reserve({ reservationId: 'old', checks: [{ bucket: 'b', limit: 10, amount: 4, expiresAt: clock.time + MINUTE }], ttlMs: 10 * MINUTE });
      // The bucket's window ends while the reservation is still live, and a later reservation creates it anew.
      clock.advance(MINUTE);
      await counters.reserve({ reservationId: 'new', checks: [{ bucket: 'b', limit: 10, amount: 3 }], ttlMs: 10 * MINUTE });
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 3 }]);
      expect(await counters.settle('old', { b: 2 })).toEqual({ settled: true });
      expect(await counters.read(['b'])).toEqual([{ spent: 2, reserved: 3 }]);
      expect(await counters.settle('new', { b: 3 })).toEqual({ settled: true });
      expect(await counters.read(['b'])).toEqual([{ spent: 5, reserved: 0 }]);
    });

    it('adds 0.1 thirty times to exactly 3, so a limit of 3 is met but never passed', async () => {
      for (let index = 0; index < 30; index += 1) {
        const result = await counters.reserve({ reservationId: `r${index}`, checks: [{ bucket: 'usd', limit: 3, amount: 0.1 }], ttlMs: MINUTE });
        expect(result.ok).toBe(true);
      }
      expect(await counters.read(['usd'])).toEqual([{ spent: 0, reserved: 3 }]);
      const over = await counters.reserve({ reservationId: 'extra', checks: [{ bucket: 'usd', limit: 3, amount: 1e-9 }], ttlMs: MINUTE });
      expect(over.ok).toBe(false);
      for (let index = 0; index < 30; index += 1) await counters.settle(`r${index}`, { usd: 0.1 });
      expect(await counters.read(['usd'])).toEqual([{ spent: 3, reserved: 0 }]);
      const exact = await counters.reserve({ reservationId: 'zero', checks: [{ bucket: 'usd', limit: 3, amount: 0 }], ttlMs: MINUTE });
      expect(exact.ok).toBe(true);
    });

    it('adds spent directly, exactly, across the whole-unit boundary and at token scale', async () => {
      for (let index = 0; index < 30; index += 1) await counters.add('usd', 0.1);
      await counters.add('carry', 0.999999999);
      await counters.add('carry', 0.000000001);
      await counters.add('tokens', 999_999_999_999);
      expect(await counters.read(['usd', 'carry', 'tokens'])).toEqual([
        { spent: 3, reserved: 0 },
        { spent: 1, reserved: 0 },
        { spent: 999_999_999_999, reserved: 0 },
      ]);
      const one = await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'tokens', limit: 1e12, amount: 1 }], ttlMs: MINUTE });
      expect(one.ok).toBe(true);
      const two = await counters.reserve({ reservationId: 's', checks: [{ bucket: 'tokens', limit: 1e12, amount: 1 }], ttlMs: MINUTE });
      expect(two).toEqual({ ok: false, failedBucket: 'tokens', spent: 999_999_999_999, reserved: 1, limit: 1e12 });
    });

    it('merges checks naming one bucket: amounts add up and the lowest limit applies', async () => {
      const checks = [{ bucket: 'b', limit: 10, amount: 3 }, { bucket: 'b', limit: 5, amount: 3 }];
      const result = await counters.reserve({ reservationId: 'r', checks, ttlMs: MINUTE });
      expect(result).toEqual({ ok: false, failedBucket: 'b', spent: 0, reserved: 0, limit: 5 });
      const fits = await counters.reserve({ reservationId: 's', checks: [checks[0]!, { bucket: 'b', limit: 6, amount: 3 }], ttlMs: MINUTE });
      expect(fits.ok).toBe(true);
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 6 }]);
    });

    it('refuses a reservation id that is already live, and invalid amounts', async () => {
      await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 10, amount: 1 }], ttlMs: MINUTE });
      await expect(
        counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 10, amount: 1 }], ttlMs: MINUTE }),
      ).rejects.toMatchObject({ code: 'limit_counter_duplicate_reservation' });
      for (const amount of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
        await expect(
          counters.reserve({ reservationId: randomUUID(), checks: [{ bucket: 'b', limit: 10, amount }], ttlMs: MINUTE }),
        ).rejects.toMatchObject({ code: 'limit_counter_invalid_amount' });
      }
      await expect(counters.add('b', -0.5)).rejects.toMatchObject({ code: 'limit_counter_invalid_amount' });
      expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 1 }]);
    });

    it('accepts a reservation id again once it was settled or expired', async () => {
      const reserve = (id: string) =>
        counters.reserve({ reservationId: id, checks: [{ bucket: 'b', limit: 10, amount: 1 }], ttlMs: MINUTE });
      await reserve('settled');
      await counters.settle('settled', { b: 1 });
      expect(await reserve('settled')).toEqual({ ok: true });
      await reserve('expired');
      clock.advance(MINUTE);
      expect(await reserve('expired')).toEqual({ ok: true });
      expect(await counters.read(['b'])).toEqual([{ spent: 1, reserved: 1 }]);
      expect(await counters.settle('expired', { b: 2 })).toEqual({ settled: true });
      expect(await counters.read(['b'])).toEqual([{ spent: 3, reserved: 0 }]);
    });

    it('counts concurrency with a bucket released at actual 0', async () => {
      const reserveSlot = (id: string) =>
        counters.reserve({ reservationId: id, checks: [{ bucket: 'concurrent', limit: 2, amount: 1 }], ttlMs: MINUTE });
      expect((await reserveSlot('a')).ok).toBe(true);
      expect((await reserveSlot('b')).ok).toBe(true);
      expect((await reserveSlot('c')).ok).toBe(false);
      await counters.settle('a', { concurrent: 0 });
      expect((await reserveSlot('c')).ok).toBe(true);
      expect(await counters.read(['concurrent'])).toEqual([{ spent: 0, reserved: 2 }]);
    });
  });
}

describeLimitCounters('MemoryCounters', () => {
  return {
    factory: (now) => new MemoryCounters({ now }),
    cleanup: async () => {},
  };
});


// The shared service check fails the run in CI when Redis is absent, and prints a notice elsewhere.
const redisSuites = 'RedisCounters and LeasedCounters (the shared suite) and RedisCounters across processes';
const skipRedis = skipWithout('Redis', redisSuites);

/** A fresh key prefix per run (and per test below it), so runs never see each other's keys. */
const { runPrefix, admin: adminClient } = redisTestRun(skipRedis);

if (!skipRedis) {
  describeLimitCounters('RedisCounters', () => {
    const keyPrefix = `${runPrefix}${randomUUID()}:`;
    return {
      factory: (now) => new RedisCounters({ client: new Redis(redisUrl), keyPrefix, now, ownsClient: true }),
      cleanup: async () => {
        await deleteRedisKeys(`${keyPrefix}*`);
      },
    };
  });
}

if (!skipRedis) {
  describeLimitCounters('LeasedCounters', () => {
    const keyPrefix = `${runPrefix}${randomUUID()}:`;
    return {
      factory: (now) => LeasedCounters.create({ client: new Redis(redisUrl), keyPrefix, now, ownsClient: true }),
      cleanup: async () => {
        await deleteRedisKeys(`${keyPrefix}*`);
      },
    };
  });
}

describe.skipIf(skipRedis)('RedisCounters across processes', () => {
  let keyPrefix: string;
  let clock: ManualClock;
  let first: RedisCounters;
  let second: RedisCounters;

  beforeEach(() => {
    keyPrefix = `${runPrefix}${randomUUID()}:`;
    clock = new ManualClock();
    first = new RedisCounters({ client: new Redis(redisUrl), keyPrefix, now: clock.now, ownsClient: true });
    second = new RedisCounters({ client: new Redis(redisUrl), keyPrefix, now: clock.now, ownsClient: true });
  });
  afterEach(async () => {
    await Promise.all([first.close(), second.close()]);
    await deleteRedisKeys(`${keyPrefix}*`);
  });

  it('never lets two connections racing on one bucket exceed its limit', async () => {
    const attempts = Array.from({ length: 200 }, (_, index) =>
      (index % 2 === 0 ? first : second).reserve({
        reservationId: `r${index}`,
        checks: [{ bucket: 'usd', limit: 2.5, amount: 0.1 }, { bucket: 'requests', limit: 1000, amount: 1 }],
        ttlMs: MINUTE,
      }),
    );
    const results = await Promise.all(attempts);
    const winners = results.flatMap((result, index) => (result.ok ? [index] : []));
    expect(winners).toHaveLength(25);
    await Promise.all(winners.map((index) => (index % 2 === 0 ? second : first).settle(`r${index}`, { usd: 0.1, requests: 1 })));
    expect(await first.read(['usd', 'requests'])).toEqual([{ spent: 2.5, reserved: 0 }, { spent: 25, reserved: 0 }]);
  });

  it('sets key TTLs from expiresAt and from the reservation ttl', async () => {
    await first.reserve({
      reservationId: 'r',
      checks: [{ bucket: 'window', limit: 10, amount: 1, expiresAt: clock.time + 2 * MINUTE }],
      ttlMs: MINUTE,
    });
    const bucketTtl = await adminClient!.pttl(`${keyPrefix}bucket:window`);
    const holdsTtl = await adminClient!.pttl(`${keyPrefix}holds:window`);
    const recordTtl = await adminClient!.pttl(`${keyPrefix}reservation:r`);
    expect(bucketTtl).toBeGreaterThan(0);
    expect(bucketTtl).toBeLessThanOrEqual(2 * MINUTE);
    expect(holdsTtl).toBeGreaterThan(0);
    expect(holdsTtl).toBeLessThanOrEqual(2 * MINUTE);
    expect(recordTtl).toBeGreaterThan(MINUTE);
    await first.settle('r', { window: 1 });
    expect(await adminClient!.exists(`${keyPrefix}reservation:r`)).toBe(0);
  });

  it('reports Redis failures as a gateway error without the connection details', async () => {
    const closed = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false });
    const counters = new RedisCounters({ client: closed, keyPrefix, now: clock.now, ownsClient: true });
    await expect(counters.read(['b'])).rejects.toMatchObject({ code: 'limit_counters_unavailable', status: 503 });
    await counters.close();
  });
});
