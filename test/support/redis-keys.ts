import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { redisUrl } from './services.js';

/** Deletes every key of the test Redis matching a SCAN pattern (e.g. `prefix*`); returns how many went. */
export async function deleteRedisKeys(pattern: string): Promise<number> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}

/**
 * A test file's own key prefix (`tollgate-test:<uuid>:`) and a client to inspect Redis with, undefined when the
 * file's Redis suites are skipped. After the file's tests every key under the prefix is deleted and the client closed.
 */
export function redisTestRun(skipped: boolean): { runPrefix: string; admin: Redis | undefined } {
  const runPrefix = `tollgate-test:${randomUUID()}:`;
  const admin = skipped ? undefined : new Redis(redisUrl);
  afterAll(async () => {
    if (admin === undefined) return;
    await deleteRedisKeys(`${runPrefix}*`);
    await admin.quit();
  });
  return { runPrefix, admin };
}
