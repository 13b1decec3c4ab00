/**
 * What the `/api/v1/api_keys` suites share: seed 001's shapes, the error check, a gateway on one store with the
 * calls the suites make, and the scans that no key was kept in clear, run at the end of each suite over every
 * secret it made.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeText } from '../support/store-text.js';
import type { TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';

export type Reply = Awaited<ReturnType<TestGateway['request']>>;
type RequestOptions = Parameters<TestGateway['request']>[0];

export const startTime = Date.parse('2026-11-23T12:00:00.000Z');
/** Seed 001's field order, then Tollgate's extensions. */
export const viewFields = ['apiKeyType', 'consumptionLimits', 'limitPeriod', 'createdAt', 'expiresAt', 'id', 'last6Chars', 'lastUsedAt', 'description', 'models', 'rateLimits', 'usage'];

export function expectError(reply: Reply, status: number, code?: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toMatchObject({ status_code: status, is_bifrost_error: true, error: { event_id: reply.body.event_id } });
  if (code !== undefined) expect(reply.body.error.code).toBe(code);
}

/** Every 6-character piece of a secret: a response that echoes "any part of the key" contains one. */
export function pieces(secret: string): string[] {
  const body = secret.slice(3);
  return Array.from({ length: body.length - 5 }, (_, index) => body.slice(index, index + 6));
}

/** A gateway on a fresh store for one suite, the calls its tests make, and every secret and log line it produced. */
export interface ApiKeySuite {
  readonly tollgate: TestGateway;
  readonly store: TestStore;
  /** Every secret created in the suite, for the scans. */
  readonly secrets: string[];
  /** The log lines of gateways closed by a restart (the running one's are in `tollgate.logs`). */
  readonly allLogs: string[];
  call(options: RequestOptions): Promise<Reply>;
  /** A request with `secret` as the bearer instead of the admin key. */
  as(secret: string, options: RequestOptions): Promise<Reply>;
  /** Creates a key as the admin and returns seed 001's `data`; its secret is added to `secrets`. */
  createKey(body: Record<string, unknown>): Promise<any>;
  /** Closes the gateway gracefully and starts another on the same store, the clock back at `startTime`. */
  restart(): Promise<void>;
}

/** Registers the suite's gateway (started before its tests, closed after) and answers its handles. */
export function apiKeySuite(create: () => TestStore): ApiKeySuite {
  let store: TestStore | undefined;
  let tollgate: TestGateway | undefined;
  const secrets: string[] = [];
  const allLogs: string[] = [];
  const running = (): TestGateway => {
    if (!tollgate) throw new Error('the suite has not started its gateway');
    return tollgate;
  };
  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store, { ledgerFlushMs: 0 });
  });
  afterAll(async () => {
    await tollgate?.close();
    await store?.dispose();
  });
  const suite: ApiKeySuite = {
    get tollgate() {
      return running();
    },
    get store() {
      if (!store) throw new Error('the suite has not made its store');
      return store;
    },
    secrets,
    allLogs,
    call: (options) => running().request(options),
    as: (secret, options) => running().request({ ...options, admin: false, headers: { authorization: `Bearer ${secret}`, ...options.headers } }),
    async createKey(body) {
      const reply = await running().request({ method: 'POST', url: '/api/v1/api_keys', body });
      expect(reply.status, reply.text).toBe(200);
      secrets.push(reply.body.data.apiKey);
      return reply.body.data;
    },
    async restart() {
      allLogs.push(...running().logs);
      await running().close();
      tollgate = await startTestGateway(suite.store, { ledgerFlushMs: 0 });
      tollgate.clock.now = startTime;
    },
  };
  return suite;
}

/**
 * The suite's last tests: the store holds only the SHA-256 of each key it made, no key in any table or file, and no
 * log line holds one. `storedDescription` is a description the suite left in the store, which proves the scan reads
 * the rows it claims to.
 */
export function describeNoKeyKept(suite: ApiKeySuite, expected: { storedDescription: string; minimumKeys: number }): void {
  describe('secrets', () => {
    it('stores only the SHA-256 of each key, never the key', async () => {
      const { tollgate, store, secrets } = suite;
      const rows = await tollgate.database.db.selectFrom('api_keys').select(['id', 'secret_hash', 'last6']).execute();
      expect(rows.length).toBeGreaterThanOrEqual(expected.minimumKeys);
      const hashes = new Set(secrets.map((secret) => createHash('sha256').update(secret).digest('hex')));
      for (const row of rows) expect(hashes.has(row.secret_hash)).toBe(true);

      const stored = await storeText(store, tollgate.database);
      // The scan sees the rows it claims to (a hash and a description are stored in clear).
      expect(stored).toContain(rows[0]!.secret_hash);
      expect(stored).toContain(expected.storedDescription);
      for (const secret of secrets) {
        expect(stored).not.toContain(secret);
        expect(stored).not.toContain(secret.slice(3, 30));
      }
    });

    it('writes no key to any log line', () => {
      const { tollgate, secrets, allLogs } = suite;
      const logs = [...allLogs, ...tollgate.logs].join('');
      expect(allLogs.length + tollgate.logs.length).toBeGreaterThan(10);
      for (const secret of secrets) {
        expect(logs).not.toContain(secret);
        expect(logs).not.toContain(secret.slice(3, 20));
      }
    });
  });
}
