import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
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
