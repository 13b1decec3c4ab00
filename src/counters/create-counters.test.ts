import { randomUUID } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys } from '../../test/support/redis-keys.js';
import { redisUrl, skipWithout } from '../../test/support/services.js';
import { DEFAULT_REDIS_PREFIX } from '../config/environment.js';
import { createCounters } from './create-counters.js';
import { LeasedCounters } from './leased-counters.js';
import { MemoryCounters } from './memory-counters.js';
import { RedisCounters } from './redis-counters.js';

describe('createCounters', () => {
  it('keeps counters in memory without a Redis URL, using the given clock', async () => {
    let time = 5_000;
    const counters = await createCounters({ now: () => time });
    expect(counters).toBeInstanceOf(MemoryCounters);
    await counters.reserve({ reservationId: 'r', checks: [{ bucket: 'b', limit: 1, amount: 1 }], ttlMs: 100 });
    time += 100;
    expect(await counters.read(['b'])).toEqual([{ spent: 0, reserved: 0 }]);
    await counters.close();
  });

  it('treats an empty Redis URL as none', async () => {
    const counters = await createCounters({ redisUrl: '' });
    expect(counters).toBeInstanceOf(MemoryCounters);
    await counters.close();
  });
});

// Two deployments sharing one Redis keep separate counters only through TOLLGATE_REDIS_PREFIX; these tests
// build the counters as the gateway does (createCounters with the configured prefix) on the real Redis.
const sharedRedisSuite = 'createCounters on a shared Redis (implementations, key prefixes)';
describe.skipIf(skipWithout('Redis', sharedRedisSuite))(sharedRedisSuite, () => {
  const runPrefix = `tollgate-test:${randomUUID()}:`;
  // A bucket name of this run only, for the test that must use the real default prefix.
  const defaultPrefixBucket = `tollgate-test-${randomUUID()}`;

  afterAll(async () => {
    await deleteRedisKeys(`${runPrefix}*`);
    await deleteRedisKeys(`${DEFAULT_REDIS_PREFIX}*${defaultPrefixBucket}*`);
  });

  it('uses Redis when a URL is given, leasing by default, and owns the connection', async () => {
    const leased = await createCounters({ redisUrl, keyPrefix: `${runPrefix}kinds:` });
    expect(leased).toBeInstanceOf(LeasedCounters);
    const direct = await createCounters({ redisUrl, keyPrefix: `${runPrefix}kinds:`, leases: false });
    expect(direct).toBeInstanceOf(RedisCounters);
    // close() must end the connections it created, or the test process would not exit.
    await Promise.all([leased.close(), direct.close()]);
  });

  it('keeps the spend and reservations of deployments with different prefixes apart', async () => {
    const europe = await createCounters({ redisUrl, keyPrefix: `${runPrefix}europe:` });
    const america = await createCounters({ redisUrl, keyPrefix: `${runPrefix}america:` });
    const europeAgain = await createCounters({ redisUrl, keyPrefix: `${runPrefix}europe:` });
    try {
      const check = { bucket: 'key:shared-id:usd:2026-12', limit: 5, amount: 5 };
      await europe.add(check.bucket, 3);
      expect(await europe.reserve({ reservationId: 'europe-1', checks: [{ ...check, amount: 2 }], ttlMs: 60_000 })).toMatchObject({ ok: true });

      // The same bucket name under another prefix is untouched: the whole limit is still available there.
      expect(await america.read([check.bucket])).toEqual([{ spent: 0, reserved: 0 }]);
      expect(await america.reserve({ reservationId: 'america-1', checks: [check], ttlMs: 60_000 })).toMatchObject({ ok: true });
      // While a process of the same deployment sees its own deployment's spend and nothing of the other's.
      expect(await europeAgain.read([check.bucket])).toEqual([{ spent: 3, reserved: 2 }]);
      expect(await europeAgain.reserve({ reservationId: 'europe-2', checks: [{ ...check, amount: 1 }], ttlMs: 60_000 })).toMatchObject({ ok: false });
    } finally {
      await Promise.all([europe.close(), america.close(), europeAgain.close()]);
    }
  });

  it('uses the configuration default as the prefix counters had when none was given', async () => {
    // The setting's default must be the prefix existing deployments wrote under, or upgrading would reset them.
    const unprefixed = await createCounters({ redisUrl });
    const configured = await createCounters({ redisUrl, keyPrefix: DEFAULT_REDIS_PREFIX });
    try {
      await unprefixed.add(defaultPrefixBucket, 2);
      expect(await configured.read([defaultPrefixBucket])).toEqual([{ spent: 2, reserved: 0 }]);
    } finally {
      await Promise.all([unprefixed.close(), configured.close()]);
    }
  });
});

/**
 * A TCP relay to the real Redis that can stop passing Redis's replies on, as a frozen Redis process or a network
 * dropping packets without closing the connection would: commands arrive, nothing comes back.
 */
async function stallableRelay(target: URL): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  let stalled = false;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      if (!stalled) client.write(data);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    stall() {
      stalled = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const stallSuite = 'createCounters on a Redis that stops answering';
describe.skipIf(skipWithout('Redis', stallSuite))(stallSuite, () => {
  const prefix = `tollgate-test:${randomUUID()}:`;
  afterAll(async () => {
    await deleteRedisKeys(`${prefix}*`);
  });

  it('fails a command unanswered within the command timeout with a retryable 503, instead of waiting forever', async () => {
    const relay = await stallableRelay(new URL(redisUrl));
    const counters = await createCounters({ redisUrl: relay.url, keyPrefix: prefix, commandTimeoutMs: 200, leases: false });
    try {
      const check = { bucket: 'key:stall:requests:2026-12', limit: 10, amount: 1 };
      expect(await counters.reserve({ reservationId: 'before', checks: [check], ttlMs: 60_000 })).toEqual({ ok: true });

      relay.stall();
      const refused = await Promise.resolve(counters.reserve({ reservationId: 'during', checks: [check], ttlMs: 60_000 })).catch((error: unknown) => error);
      expect(refused).toMatchObject({ status: 503, code: 'limit_counters_unavailable', retryable: true });
      await expect(counters.settle('before', { [check.bucket]: 1 })).rejects.toMatchObject({ status: 503, code: 'limit_counters_unavailable' });
    } finally {
      await counters.close();
      await relay.close();
    }
  });

  it('with leases, goes on reserving within the lease it holds, refuses beyond it with a 503, and reports the usage it could not write', async () => {
    const relay = await stallableRelay(new URL(redisUrl));
    const failures: unknown[] = [];
    const counters = await createCounters({ redisUrl: relay.url, keyPrefix: prefix, commandTimeoutMs: 200, onError: (error) => failures.push(error) });
    try {
      const bucket = 'key:stall-leased:requests:2026-12';
      // The first reservation leases 1 plus a quarter of the 99 left: 25.75 requests.
      expect(await counters.reserve({ reservationId: 'before', checks: [{ bucket, limit: 100, amount: 1 }], ttlMs: 60_000 })).toEqual({ ok: true });

      relay.stall();
      expect(await counters.reserve({ reservationId: 'within', checks: [{ bucket, limit: 100, amount: 20 }], ttlMs: 60_000 })).toEqual({ ok: true });
      const beyond = await Promise.resolve(counters.reserve({ reservationId: 'beyond', checks: [{ bucket, limit: 100, amount: 10 }], ttlMs: 60_000 })).catch((error: unknown) => error);
      expect(beyond).toMatchObject({ status: 503, code: 'limit_counters_unavailable', retryable: true });
      expect(await counters.settle('before', { [bucket]: 1 })).toEqual({ settled: true });
      // This flush fails like any other while Redis stalls (the periodic ones may have failed before it).
      const before = failures.length;
      await counters.flush();
      expect(failures.length).toBeGreaterThan(before);
      for (const failure of failures) expect(failure).toMatchObject({ status: 503, code: 'limit_counters_unavailable' });
    } finally {
      await counters.close();
      await relay.close();
    }
  });
});
