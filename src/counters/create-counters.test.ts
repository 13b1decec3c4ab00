import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisUrl, skipWithout } from '../../test/support/services.js';
import { DEFAULT_REDIS_PREFIX } from '../config/environment.js';
import { createCounters } from './create-counters.js';
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

  it('uses Redis when a URL is given, and owns the connection', async () => {
    const counters = await createCounters({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: `tollgate-test:${randomUUID()}:` });
    expect(counters).toBeInstanceOf(RedisCounters);
    // close() must end the connection it created, or the test process would not exit.
    await counters.close();
  });
});

/** Deletes every key under a prefix, so the run leaves nothing behind in the shared Redis. */
async function deleteKeys(pattern: string): Promise<void> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

// Two deployments sharing one Redis keep separate counters only through TOLLGATE_REDIS_PREFIX; these tests
// build the counters as the gateway does (createCounters with the configured prefix) on the real Redis.
const sharedRedisSuite = 'createCounters key prefix on a shared Redis';
describe.skipIf(skipWithout('Redis', sharedRedisSuite))(sharedRedisSuite, () => {
  const runPrefix = `tollgate-test:${randomUUID()}:`;
  // A bucket name of this run only, for the test that must use the real default prefix.
  const defaultPrefixBucket = `tollgate-test-${randomUUID()}`;

  afterAll(async () => {
    await deleteKeys(`${runPrefix}*`);
    await deleteKeys(`${DEFAULT_REDIS_PREFIX}*${defaultPrefixBucket}*`);
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
