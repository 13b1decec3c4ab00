/**
 * Shared pieces of the API-key limit tests: a gateway in front of the OpenAI mock with a fixed-price pricing
 * structure (so worst cases and costs are simple numbers), counters in memory or in the real Redis under a
 * fresh key prefix, and ways to wait for settlement on events rather than on time.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { LedgerRow } from '../../src/store/usage-ledger-repository.js';
import type { Gateway } from '../../src/server/create-app.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { immediateRetries, post, type GatewayReply } from '../inference/inference-helpers.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { deleteRedisKeys } from '../support/redis-keys.js';
import { redisAvailable, redisUrl } from '../support/services.js';
import type { TestStore } from '../support/stores.js';
import type { AppDependencies } from '../../src/server/create-app.js';

export const upstreamKey = 'sk-limits-upstream-0001';
/** USD per million tokens of the test pricing structure: 0.001 USD a token, input and output alike. */
export const pricePerMillion = 1000;
export const usdPerToken = pricePerMillion / 1_000_000;

/** Where the counters live: in the process, or in the real Redis (only listed when Redis is reachable). */
export type CounterKind = 'memory' | 'redis';
export const counterKinds: Array<{ name: CounterKind }> = [{ name: 'memory' }, ...(redisAvailable ? [{ name: 'redis' as const }] : [])];

/** A fresh Redis key prefix for one test file's run. */
export function freshRedisPrefix(): string {
  return `tollgate-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under the prefix (the counters' buckets, holds and reservation records). */
export function deleteRedisPrefix(prefix: string): Promise<number> {
  return deleteRedisKeys(`${prefix}*`);
}

/** Counts the keys under a prefix (to check that cleanup and settlement leave nothing behind). */
export async function countRedisKeys(prefix: string): Promise<string[]> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  } finally {
    client.disconnect();
  }
}

/** The options that put a gateway's counters where the kind says. */
export function countersFor(kind: CounterKind, prefix: string): Partial<AppDependencies> {
  return kind === 'redis' ? { redisUrl, redisKeyPrefix: prefix } : {};
}

/**
 * Notices every ledger row the gateway appends (the last step of settling a request), so a test can wait for
 * the n-th settlement instead of sleeping. The ledger is the gateway's own object; only `append` is observed.
 */
export interface LedgerWatch {
  /** Rows appended since the watch began. */
  rows: LedgerRow[];
  /** Resolves once at least `count` rows were appended since the watch began. */
  whenRows(count: number): Promise<void>;
}

const watches = new WeakMap<Gateway, LedgerWatch>();

export function watchLedger(gateway: Gateway): LedgerWatch {
  const existing = watches.get(gateway);
  if (existing) return existing;
  const ledger = gateway.services.ledger;
  const original = ledger.append.bind(ledger);
  const rows: LedgerRow[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  ledger.append = (row: LedgerRow) => {
    original(row);
    rows.push(row);
    for (const waiter of waiters.filter((entry) => entry.count <= rows.length)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const watch: LedgerWatch = {
    rows,
    whenRows(count) {
      if (rows.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
  watches.set(gateway, watch);
  return watch;
}

/** A gateway in front of the OpenAI mock, its provider key priced by the test pricing structure. */
export interface LimitsRig {
  tollgate: LiveGateway;
  mock: OpenAIMock;
  ledger: LedgerWatch;
  /** The id of the provider key on `openai`. */
  providerKeyId: string;
  dispose(): Promise<void>;
}

export async function startLimitsRig(
  options: Partial<AppDependencies> & { store?: TestStore; mock?: OpenAIMock; environment?: Record<string, string | undefined>; priced?: boolean } = {},
): Promise<LimitsRig> {
  const { mock: givenMock, priced = true, ...overrides } = options;
  const mock = givenMock ?? (await startOpenAIMock({ apiKeys: [upstreamKey] }));
  const tollgate = await startLiveGateway({ ledgerFlushMs: 0, ...overrides });
  await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 2, ...immediateRetries } });
  let structure: string | undefined;
  if (priced) {
    const created = await tollgate.request({
      method: 'POST',
      url: '/api/pricing-structures',
      body: {
        id: 'limits-test',
        name: 'limits test prices',
        entries: [
          { model: 'gpt-4o-mini', input_per_million: pricePerMillion, output_per_million: pricePerMillion },
          { model: 'text-embedding-3-small', input_per_million: pricePerMillion, output_per_million: 0 },
        ],
      },
    });
    if (created.status !== 200 && created.status !== 201) throw new Error(`creating the pricing structure failed: ${created.status} ${created.text}`);
    structure = 'limits-test';
  }
  const providerKeyId = await tollgate.addKey('openai', { name: 'main', value: upstreamKey, ...(structure ? { customPricingStructureId: structure } : {}) });
  return {
    tollgate,
    mock,
    ledger: watchLedger(tollgate.gateway),
    providerKeyId,
    async dispose() {
      await tollgate.dispose();
      if (!givenMock) await mock.close();
    },
  };
}

/** Creates a client API key through the management API; returns its id, secret and view. */
export async function createApiKey(tollgate: { request: LiveGateway['request'] }, body: Record<string, unknown>): Promise<{ id: string; secret: string; view: any }> {
  const created = await tollgate.request({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', ...body } });
  if (created.status !== 200) throw new Error(`creating an API key failed: ${created.status} ${created.text}`);
  return { id: created.body.data.id, secret: created.body.data.apiKey, view: created.body.data };
}

/** A chat request over HTTP as the API key's client sends it. */
export function chatAs(
  tollgate: LiveGateway | { url: string },
  secret: string,
  body: Record<string, unknown>,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<GatewayReply> {
  return post(tollgate as LiveGateway, '/v1/chat/completions', body, { headers: { authorization: `Bearer ${secret}`, ...options.headers }, ...(options.signal ? { signal: options.signal } : {}) });
}

/** A small chat body for gpt-4o-mini on the OpenAI mock. */
export function smallChat(content = 'hello there', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 16, ...extra };
}

/** The key's usage as the management API shows it. */
export async function usageOf(tollgate: { request: LiveGateway['request'] }, id: string): Promise<any> {
  const view = await tollgate.request({ method: 'GET', url: `/api/v1/api_keys/${id}` });
  if (view.status !== 200) throw new Error(`reading API key ${id} failed: ${view.status} ${view.text}`);
  return view.body.data.usage;
}

/** The key's ledger rows in the store, after writing out what the gateway buffered. */
export async function ledgerRowsOf(tollgate: Pick<LiveGateway, 'gateway' | 'database'>, apiKeyId: string) {
  await tollgate.gateway.flushUsage();
  return tollgate.database.db.selectFrom('usage_ledger').selectAll().where('api_key_id', '=', apiKeyId).orderBy('created_at').execute();
}

/** Sum of a numeric column. */
export function total<T>(rows: T[], pick: (row: T) => number): number {
  return rows.reduce((sum, row) => sum + Number(pick(row)), 0);
}
