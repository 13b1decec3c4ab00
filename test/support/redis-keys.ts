import { Redis } from 'ioredis';
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
