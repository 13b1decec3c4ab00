/**
 * Stopping a gateway while a stream is still being relayed, as a deployment does: SIGTERM lets the requests in flight
 * finish within the grace period (TOLLGATE_SHUTDOWN_GRACE_SECONDS), then closes the connections still open, so that
 * what they used is metered before the process exits: the stream's ledger row is written, nothing is lost, and the
 * exit is clean. The test waits on the process's exit, not on a timer of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStallingStreamMock, type StallingStreamMock } from '../mocks/stalling-stream-mock.js';
import { startEntryPoint, type EntryPointProcess } from '../support/entry-point-process.js';
import { sqliteStore, type TestStore } from '../support/stores.js';
import { startTestGateway, testAdminKey, testEncryptionKey } from '../support/test-gateway.js';

describe('a graceful stop with a stream still open', () => {
  let mock: StallingStreamMock;
  let store: TestStore;
  let gateway: EntryPointProcess | undefined;
  let secret: string;

  beforeAll(async () => {
    mock = await startStallingStreamMock();
    store = sqliteStore();
    const setup = await startTestGateway(store);
    expect((await setup.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { base_url: mock.baseUrl, max_retries: 0 } } })).status).toBe(200);
    expect((await setup.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'main', value: 'sk-stall' } })).status).toBe(201);
    const created = await setup.request({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', consumptionLimit: { requests: 100 }, limitPeriod: 'LIFETIME' } });
    expect(created.status).toBe(200);
    secret = created.body.data.apiKey;
    await setup.close();
  });

  afterAll(async () => {
    await gateway?.stop();
    await mock.close();
    await store.dispose();
  });

  it('ends the stream when the grace period is over, writes its ledger row and exits 0', { timeout: 60_000 }, async () => {
    gateway = await startEntryPoint({
      TOLLGATE_DATA_DIR: store.dataDir,
      TOLLGATE_ADMIN_KEY: testAdminKey,
      TOLLGATE_ENCRYPTION_KEY: testEncryptionKey.toString('hex'),
      TOLLGATE_SHUTDOWN_GRACE_SECONDS: '1',
      LOG_LEVEL: 'info',
    });
    const response = await fetch(`${gateway.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'a long answer' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('first ');

    expect(await gateway.stop()).toBe(0);
    // The upstream stream was cancelled, and the client's stream ended rather than hanging.
    await mock.whenAborted();
    const rest = await (async () => {
      try {
        for (;;) if ((await reader.read()).done) return 'ended';
      } catch {
        return 'cut';
      }
    })();
    expect(['ended', 'cut']).toContain(rest);

    const database = await store.open();
    try {
      const rows = await database.db.selectFrom('usage_ledger').selectAll().execute();
      expect(rows).toHaveLength(1);
      // Cancelled as a client that left would be, and charged its reservation: the stalled stream reported no usage.
      expect(rows[0]).toMatchObject({ stream: 1, request_type: 'chat', status: 499, error_code: 'client_closed_request', usage_missing: 1 });
      expect(rows[0]!.output_tokens).toBeGreaterThan(0);
      const line = gateway.standardOutput().split('\n').find((entry) => entry.includes('"route":"/v1/chat/completions"'));
      expect(JSON.parse(line!)).toMatchObject({ status: 499, errorCode: 'client_closed_request' });
      expect(gateway.standardOutput()).toContain('shutdown grace period over');
    } finally {
      await database.close();
    }
  });
});
