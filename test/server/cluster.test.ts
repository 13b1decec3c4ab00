/**
 * Multi-core mode end to end: the real entry point (`src/index.ts`) with TOLLGATE_WORKERS=2 and Redis, a primary and
 * two worker processes sharing one port. A requests limit holds exactly across the workers (each leasing from
 * Redis), and a graceful stop writes every count and gives every lease back.
 */
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { chatAs, freshRedisPrefix, smallChat, upstreamKey } from '../limits/limit-helpers.js';
import { startEntryPoint, type EntryPointProcess } from '../support/entry-point-process.js';
import { deleteRedisKeys } from '../support/redis-keys.js';
import { redisUrl, skipWithout } from '../support/services.js';
import { sqliteStore, type TestStore } from '../support/stores.js';
import { startTestGateway, testAdminKey, testEncryptionKey } from '../support/test-gateway.js';

const suite = 'TOLLGATE_WORKERS=2 over Redis';
describe.skipIf(skipWithout('Redis', suite))(suite, () => {
  const prefix = freshRedisPrefix();
  let store: TestStore;
  let mock: OpenAIMock;
  let primary: EntryPointProcess;
  let base: string;
  let secret: string;
  /** An API key without limits, for the requests that are not about the limit. */
  let unlimited: string;
  /** Chat requests the metrics test sends before the limit test (both count the workers' log lines). */
  const metricsRequests = 6;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: [upstreamKey] });
    // The store is prepared before the workers start, so that each loads the provider, its key and the API key at
    // start instead of learning them on its next refresh.
    store = sqliteStore();
    const setup = await startTestGateway(store);
    expect((await setup.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { base_url: mock.baseUrl } } })).status).toBe(200);
    expect((await setup.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'main', value: upstreamKey } })).status).toBe(201);
    const created = await setup.request({
      method: 'POST',
      url: '/api/v1/api_keys',
      body: { apiKeyType: 'INFERENCE', consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' },
    });
    expect(created.status).toBe(200);
    secret = created.body.data.apiKey;
    const unlimitedKey = await setup.request({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE' } });
    expect(unlimitedKey.status).toBe(200);
    unlimited = unlimitedKey.body.data.apiKey;
    await setup.close();

    // The port answers once a worker listens; the other is normally listening by then, and the limit must hold either way.
    primary = await startEntryPoint({
      TOLLGATE_DATA_DIR: store.dataDir,
      TOLLGATE_ADMIN_KEY: testAdminKey,
      TOLLGATE_ENCRYPTION_KEY: testEncryptionKey.toString('hex'),
      TOLLGATE_WORKERS: '2',
      REDIS_URL: redisUrl,
      TOLLGATE_REDIS_PREFIX: prefix,
      LOG_LEVEL: 'info',
    });
    base = primary.base;
  }, 60_000);

  afterAll(async () => {
    await primary?.stop();
    await mock?.close();
    await store?.dispose();
    await deleteRedisKeys(`${prefix}*`);
  });

  it('answers GET /metrics for every worker, whichever worker takes the scrape', { timeout: 60_000 }, async () => {
    // Both workers take connections before any is made: node:cluster deals new connections to them in turn.
    await expect.poll(() => primary.standardOutput().split('tollgate listening').length - 1, { timeout: 30_000 }).toBe(2);
    for (let index = 0; index < metricsRequests; index += 1) {
      const reply = await onNewConnection(base, { method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${unlimited}` }, body: JSON.stringify(smallChat()) });
      expect(reply.status).toBe(200);
    }
    // Each worker served some of them; every scrape, on a connection of its own, counts all of them.
    for (let scrape = 0; scrape < 4; scrape += 1) {
      const metrics = await onNewConnection(base, { method: 'GET', path: '/metrics' });
      expect(metrics.status).toBe(200);
      expect(samplesOf(metrics.body, 'tollgate_requests_total', 'status="200"')).toBe(metricsRequests);
    }
  });

  it('serves exactly the limit across its workers, and writes every count and gives every lease back when stopped', { timeout: 60_000 }, async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, () => chatAs({ url: base }, secret, smallChat())));
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(10);
    for (const refusal of replies.filter((reply) => reply.status !== 200)) {
      expect(refusal.status).toBe(402);
      expect(refusal.body.error.code).toBe('API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED');
    }

    expect(await primary.stop()).toBe(0);
    const redis = new Redis(redisUrl);
    try {
      const [, keys] = await redis.scan('0', 'MATCH', `${prefix}bucket:usage:*:requests`, 'COUNT', 1000);
      expect(keys).toHaveLength(1);
      const bucket = await redis.hgetall(keys[0]!);
      expect(bucket).toMatchObject({ spent: '10000000000', reserved: '0', leased: '0' });
    } finally {
      await redis.quit();
    }
    expect(primary.output()).not.toContain(secret);

    // Every line the workers logged reached the primary's standard output whole: one JSON object a line, and one
    // request line per chat request, whichever worker served it.
    const lines = primary.standardOutput().split('\n').filter((line) => line.length > 0);
    const records = lines.map((line) => JSON.parse(line) as { route?: string; status?: number });
    const chatLines = records.filter((record) => record.route === '/v1/chat/completions');
    expect(chatLines).toHaveLength(40 + metricsRequests);
    expect(chatLines.filter((record) => record.status === 200)).toHaveLength(10 + metricsRequests);
  });
});

/** A request on a connection of its own (no keep-alive), so that node:cluster hands it to the next worker. */
function onNewConnection(base: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      `${base}${options.path}`,
      { method: options.method, agent: false, headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => (body += part));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** The sum of a metric's samples whose labels include `label` (e.g. `status="200"`) in a Prometheus exposition. */
function samplesOf(exposition: string, name: string, label: string): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(label)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
