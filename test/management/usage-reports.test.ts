import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRoutes } from '../../src/api/management/usage.js';
import { parseIsoTime, UsageReportService } from '../../src/core/management/usage-report-service.js';
import type { Database } from '../../src/store/database.js';
import { trailingTotals } from '../../src/store/usage-ledger-queries.js';
import { UsageLedgerRepository, type LedgerRow } from '../../src/store/usage-ledger-repository.js';
import { mountRoutes, type MountedRoutes } from '../support/mount-routes.js';
import { storeKinds, type TestStore } from '../support/stores.js';

type Response = Awaited<ReturnType<MountedRoutes['request']>>;

function expectError(response: Response, status: number, param: string, code?: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body.is_bifrost_error).toBe(true);
  expect(response.body.error.param).toBe(param);
  if (code !== undefined) expect(response.body.error.code).toBe(code);
}

function ledgerRow(id: string, overrides: Partial<LedgerRow> & { created_at: string }): LedgerRow {
  return {
    id,
    request_id: `request-${id}`,
    api_key_id: 'key-a',
    provider: 'openai',
    model: 'gpt-4o',
    provider_key_id: 'openai-key-1',
    request_type: 'chat',
    status: 200,
    stream: 0,
    input_tokens: 0,
    output_tokens: 0,
    cached_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: 0,
    usage_missing: 0,
    error_code: null,
    latency_ms: 120,
    ...overrides,
  };
}

/** The fixture ledger; the clock stands at 2026-11-23T12:00:00Z. */
const rows: LedgerRow[] = [
  ledgerRow('r01', { created_at: '2026-10-01T08:00:00.000Z', input_tokens: 5000, output_tokens: 5000, cost_usd: 1 }),
  ledgerRow('r02', { created_at: '2026-11-22T10:15:00.000Z', input_tokens: 100, output_tokens: 50, cached_tokens: 10, cost_usd: 0.001 }),
  ledgerRow('r03', { created_at: '2026-11-22T10:45:00.000Z', input_tokens: 200, output_tokens: 100, cost_usd: 0.002, stream: 1 }),
  ledgerRow('r04', {
    created_at: '2026-11-22T11:05:00.000Z',
    api_key_id: 'key-b',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    provider_key_id: 'anthropic-key-1',
    status: 429,
    error_code: 'rate_limit_exceeded',
  }),
  ledgerRow('r05', {
    created_at: '2026-11-23T09:00:00.000Z',
    api_key_id: 'key-b',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    provider_key_id: 'anthropic-key-1',
    input_tokens: 1000,
    output_tokens: 500,
    cached_tokens: 200,
    cache_write_tokens: 150,
    cost_usd: 0.01,
    request_type: 'messages',
  }),
  // Same time as r05: the id breaks the tie.
  ledgerRow('r06', {
    created_at: '2026-11-23T09:00:00.000Z',
    api_key_id: 'bootstrap',
    provider: 'groq',
    model: 'llama-3.3-70b',
    provider_key_id: null,
    status: 503,
    error_code: 'upstream_error',
    usage_missing: 1,
  }),
  // One request, two attempts: the first provider failed, the fallback served it.
  ledgerRow('r07', { created_at: '2026-11-23T10:00:00.000Z', request_id: 'fallback-request', provider: 'groq', model: 'llama-3.3-70b', status: 500 }),
  ledgerRow('r08', {
    created_at: '2026-11-23T10:00:01.000Z',
    request_id: 'fallback-request',
    provider: 'openai',
    model: 'gpt-4o-mini',
    input_tokens: 10,
    output_tokens: 20,
    cost_usd: 0.0003,
  }),
];

const newestFirst = ['r08', 'r07', 'r06', 'r05', 'r04', 'r03', 'r02', 'r01'];

describe.each(storeKinds)('logs and usage API ($name)', ({ create }) => {
  let store: TestStore;
  let database: Database;
  let api: MountedRoutes;
  const clock = { now: Date.parse('2026-11-23T12:00:00.000Z') };
  const get = (url: string) => api.request({ method: 'GET', url });
  const ids = (response: Response) => response.body.logs.map((row: { id: string }) => row.id);

  beforeAll(async () => {
    store = create();
    database = await store.open();
    await new UsageLedgerRepository(database.db).insertBatch(rows);
    api = await mountRoutes([usageRoutes(new UsageReportService({ db: database.db, clock: () => clock.now }))]);
  });
  afterAll(async () => {
    await api?.close();
    await database?.close();
    await store?.dispose();
  });

  it('refuses callers without the admin key', async () => {
    for (const url of ['/api/logs', '/api/usage']) {
      const response = await api.request({ method: 'GET', url, admin: false });
      expect(response.status).toBe(401);
    }
  });

  it('lists every row newest first, with snake_case fields and booleans', async () => {
    const response = await get('/api/logs');
    expect(response.status, response.text).toBe(200);
    expect(ids(response)).toEqual(newestFirst);
    expect(response.body).toMatchObject({ total: 8, limit: 50, offset: 0, next_cursor: null });
    expect(response.body.logs[5]).toEqual({
      id: 'r03',
      request_id: 'request-r03',
      api_key_id: 'key-a',
      provider: 'openai',
      model: 'gpt-4o',
      provider_key_id: 'openai-key-1',
      request_type: 'chat',
      status: 200,
      stream: true,
      input_tokens: 200,
      output_tokens: 100,
      cached_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.002,
      usage_missing: false,
      error_code: null,
      latency_ms: 120,
      created_at: '2026-11-22T10:45:00.000Z',
    });
    expect(response.body.logs[2]).toMatchObject({ id: 'r06', provider_key_id: null, usage_missing: true, error_code: 'upstream_error' });
  });

  it('filters by key, provider, model, request id and status', async () => {
    expect(ids(await get('/api/logs?api_key_id=key-b'))).toEqual(['r05', 'r04']);
    expect(ids(await get('/api/logs?provider=groq'))).toEqual(['r07', 'r06']);
    expect(ids(await get('/api/logs?model=gpt-4o'))).toEqual(['r03', 'r02', 'r01']);
    expect(ids(await get('/api/logs?request_id=fallback-request'))).toEqual(['r08', 'r07']);
    expect(ids(await get('/api/logs?status=429'))).toEqual(['r04']);
    expect(ids(await get('/api/logs?status=error'))).toEqual(['r07', 'r06', 'r04']);
    expect(ids(await get('/api/logs?status=success'))).toEqual(['r08', 'r05', 'r03', 'r02', 'r01']);
    const combined = await get('/api/logs?api_key_id=key-a&provider=openai&status=success');
    expect(ids(combined)).toEqual(['r08', 'r03', 'r02', 'r01']);
    expect(combined.body.total).toBe(4);
    const none = await get('/api/logs?api_key_id=nobody');
    expect(none.body).toEqual({ logs: [], total: 0, limit: 50, offset: 0, next_cursor: null });
  });

  it('filters on a time range: from inclusive, to exclusive, any zone or a bare date', async () => {
    expect(ids(await get('/api/logs?from=2026-11-23T09:00:00.000Z'))).toEqual(['r08', 'r07', 'r06', 'r05']);
    expect(ids(await get('/api/logs?to=2026-11-23T09:00:00Z'))).toEqual(['r04', 'r03', 'r02', 'r01']);
    // 11:00 at +01:00 is 10:00 UTC.
    expect(ids(await get(`/api/logs?from=2026-11-22&to=${encodeURIComponent('2026-11-23T11:00:00+01:00')}`))).toEqual(['r06', 'r05', 'r04', 'r03', 'r02']);
    expect(ids(await get('/api/logs?from=2026-11-22T10:30Z&to=2026-11-22T11:05:00.001Z'))).toEqual(['r04', 'r03']);
  });

  it('pages with limit and offset, and with a cursor that is stable while rows arrive', async () => {
    const first = await get('/api/logs?limit=3');
    expect(ids(first)).toEqual(newestFirst.slice(0, 3));
    expect(first.body).toMatchObject({ total: 8, limit: 3, offset: 0 });
    expect(typeof first.body.next_cursor).toBe('string');
    const second = await get('/api/logs?limit=3&offset=3');
    expect(ids(second)).toEqual(newestFirst.slice(3, 6));
    expect(second.body.offset).toBe(3);
    const last = await get('/api/logs?limit=3&offset=6');
    expect(ids(last)).toEqual(newestFirst.slice(6));
    expect(last.body.next_cursor).toBeNull();
    expect((await get('/api/logs?limit=8')).body.next_cursor).toBeNull();

    // A newer row lands between two pages: the cursor continues where the first page ended.
    const repository = new UsageLedgerRepository(database.db);
    await repository.insertBatch([ledgerRow('r09', { created_at: '2026-11-23T11:59:00.000Z' })]);
    try {
      const collected: string[] = [...ids(first)];
      let cursor: string | null = first.body.next_cursor;
      while (cursor !== null) {
        const page = await get(`/api/logs?limit=3&cursor=${encodeURIComponent(cursor)}`);
        expect(page.status, page.text).toBe(200);
        expect(page.body.total).toBe(9);
        collected.push(...ids(page));
        cursor = page.body.next_cursor;
      }
      expect(collected).toEqual(newestFirst);
      // Tied times (r06, r05) split across pages exactly.
      const tied = await get('/api/logs?limit=3');
      const afterTie = await get(`/api/logs?limit=2&cursor=${encodeURIComponent(tied.body.next_cursor)}`);
      expect(ids(tied)).toEqual(['r09', 'r08', 'r07']);
      const next = await get(`/api/logs?limit=1&cursor=${encodeURIComponent(afterTie.body.next_cursor)}`);
      expect([...ids(afterTie), ...ids(next)]).toEqual(['r06', 'r05', 'r04']);
      // The cursor combines with filters.
      const filtered = await get('/api/logs?api_key_id=key-a&limit=2');
      expect(ids(filtered)).toEqual(['r09', 'r08']);
      const filteredNext = await get(`/api/logs?api_key_id=key-a&limit=2&cursor=${encodeURIComponent(filtered.body.next_cursor)}`);
      expect(ids(filteredNext)).toEqual(['r07', 'r03']);
    } finally {
      await database.db.deleteFrom('usage_ledger').where('id', '=', 'r09').execute();
    }
  });

  it('refuses bad query parameters with 400 naming them', async () => {
    expectError(await get('/api/logs?limit=0'), 400, 'limit');
    expectError(await get('/api/logs?limit=1001'), 400, 'limit');
    expectError(await get('/api/logs?limit=ten'), 400, 'limit');
    expectError(await get('/api/logs?limit=2.5'), 400, 'limit');
    expectError(await get('/api/logs?offset=-1'), 400, 'offset');
    expectError(await get('/api/logs?status=ok'), 400, 'status');
    expectError(await get('/api/logs?from=yesterday'), 400, 'from');
    expectError(await get('/api/logs?from=2026-02-30'), 400, 'from');
    expectError(await get('/api/logs?to=2026-11-23T12:00:00'), 400, 'to');
    expectError(await get('/api/logs?to=2026-11-23T24:00:00Z'), 400, 'to');
    expectError(await get('/api/logs?from=2026-11-23&to=2026-11-22'), 400, 'from');
    expectError(await get('/api/logs?api_key=key-a'), 400, 'api_key', 'unknown_field');
    expectError(await get('/api/logs?cursor=not-a-cursor'), 400, 'cursor', 'invalid_cursor');
    const cursor = (await get('/api/logs?limit=1')).body.next_cursor;
    expectError(await get(`/api/logs?offset=1&cursor=${encodeURIComponent(cursor)}`), 400, 'cursor');
    expectError(await get('/api/logs?model='), 400, 'model');
    expectError(await get('/api/usage?group_by=team'), 400, 'group_by');
    expectError(await get('/api/usage?bucket=week'), 400, 'bucket');
    expectError(await get('/api/usage?from=2026-13-01'), 400, 'from');
    expectError(await get('/api/usage?from=2026-11-23&to=2026-11-01'), 400, 'from');
    expectError(await get('/api/usage?limit=5'), 400, 'limit', 'unknown_field');
  });

  it('totals usage per key over the last 30 days by default, most expensive first', async () => {
    const response = await get('/api/usage');
    expect(response.status, response.text).toBe(200);
    expect(response.body.from).toBe('2026-10-24T12:00:00.000Z');
    expect(response.body.to).toBe('2026-11-23T12:00:00.000Z');
    expect(response.body.group_by).toBe('key');
    expect(response.body.bucket).toBeNull();
    const usage = response.body.usage;
    expect(usage.map((row: { key: string }) => row.key)).toEqual(['key-b', 'key-a', 'bootstrap']);
    // r01 is older than the window.
    expect(usage[1]).toEqual({ key: 'key-a', requests: 4, input_tokens: 310, output_tokens: 170, cached_tokens: 10, cache_write_tokens: 0, cost_usd: expect.closeTo(0.0033, 12) });
    expect(usage[0]).toEqual({ key: 'key-b', requests: 2, input_tokens: 1000, output_tokens: 500, cached_tokens: 200, cache_write_tokens: 150, cost_usd: expect.closeTo(0.01, 12) });
    expect(usage[2]).toEqual({ key: 'bootstrap', requests: 1, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, cost_usd: 0 });
    expect(response.body.totals).toEqual({ requests: 7, input_tokens: 1310, output_tokens: 670, cached_tokens: 210, cache_write_tokens: 150, cost_usd: expect.closeTo(0.0133, 12) });

    const everything = await get('/api/usage?from=2026-01-01');
    expect(everything.body.totals).toMatchObject({ requests: 8, input_tokens: 6310 });
  });

  it('groups by model or provider, with filters', async () => {
    const byModel = await get('/api/usage?group_by=model&from=2026-11-01');
    expect(byModel.body.usage.map((row: { model: string; requests: number }) => [row.model, row.requests])).toEqual([
      ['claude-sonnet-4-5', 2],
      ['gpt-4o', 2],
      ['gpt-4o-mini', 1],
      ['llama-3.3-70b', 2],
    ]);
    expect(byModel.body.usage[0]).not.toHaveProperty('key');
    const byProvider = await get('/api/usage?group_by=provider&api_key_id=key-a&from=2026-11-01');
    expect(byProvider.body.usage).toEqual([
      { provider: 'openai', requests: 3, input_tokens: 310, output_tokens: 170, cached_tokens: 10, cache_write_tokens: 0, cost_usd: expect.closeTo(0.0033, 12) },
      { provider: 'groq', requests: 1, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, cost_usd: 0 },
    ]);
    const oneModel = await get('/api/usage?group_by=key&model=llama-3.3-70b');
    expect(oneModel.body.usage.map((row: { key: string }) => row.key)).toEqual(['bootstrap', 'key-a']);
  });

  it('buckets by UTC hour or day', async () => {
    const daily = await get('/api/usage?group_by=provider&bucket=day&from=2026-11-22&to=2026-11-24');
    expect(daily.body.bucket).toBe('day');
    expect(daily.body.usage.map((row: { bucket_start: string; provider: string; requests: number }) => [row.bucket_start, row.provider, row.requests])).toEqual([
      ['2026-11-22T00:00:00.000Z', 'openai', 2],
      ['2026-11-22T00:00:00.000Z', 'anthropic', 1],
      ['2026-11-23T00:00:00.000Z', 'anthropic', 1],
      ['2026-11-23T00:00:00.000Z', 'openai', 1],
      ['2026-11-23T00:00:00.000Z', 'groq', 2],
    ]);
    const hourly = await get('/api/usage?bucket=hour&api_key_id=key-a&from=2026-11-22');
    expect(hourly.body.usage).toEqual([
      { key: 'key-a', bucket_start: '2026-11-22T10:00:00.000Z', requests: 2, input_tokens: 300, output_tokens: 150, cached_tokens: 10, cache_write_tokens: 0, cost_usd: expect.closeTo(0.003, 12) },
      { key: 'key-a', bucket_start: '2026-11-23T10:00:00.000Z', requests: 2, input_tokens: 10, output_tokens: 20, cached_tokens: 0, cache_write_tokens: 0, cost_usd: expect.closeTo(0.0003, 12) },
    ]);
  });

  it('sums trailing totals per API key in one query, with zeros for keys without rows', async () => {
    const totals = await trailingTotals(database.db, ['key-a', 'key-b', 'bootstrap', 'key-unused'], '2026-11-22T10:45:00.000Z');
    expect([...totals.keys()]).toEqual(['key-a', 'key-b', 'bootstrap', 'key-unused']);
    // `since` is inclusive: r03 counts, r02 does not.
    expect(totals.get('key-a')).toEqual({ costUsd: expect.closeTo(0.0023, 12), inputTokens: 210, outputTokens: 120, cachedTokens: 0, cacheWriteTokens: 0, requests: 3 });
    expect(totals.get('key-b')).toEqual({ costUsd: expect.closeTo(0.01, 12), inputTokens: 1000, outputTokens: 500, cachedTokens: 200, cacheWriteTokens: 150, requests: 2 });
    expect(totals.get('bootstrap')).toEqual({ costUsd: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, requests: 1 });
    expect(totals.get('key-unused')).toEqual({ costUsd: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, requests: 0 });
    expect((await trailingTotals(database.db, [], '2026-01-01T00:00:00.000Z')).size).toBe(0);

    // More keys than fit one statement's chunk.
    const many = Array.from({ length: 1200 }, (_, index) => `bulk-${index}`);
    const bulk = await trailingTotals(database.db, [...many, 'key-b'], '2026-01-01T00:00:00.000Z');
    expect(bulk.size).toBe(1201);
    expect(bulk.get('key-b')?.requests).toBe(2);
    expect(bulk.get('bulk-700')?.requests).toBe(0);
  });

  it('documents both routes in OpenAPI', async () => {
    const document = api.app.swagger() as { paths: Record<string, { get: { parameters: Array<{ name: string }> } }>; components: { schemas: Record<string, unknown> } };
    expect(document.paths['/api/logs']?.get.parameters.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['api_key_id', 'status', 'from', 'to', 'limit', 'offset', 'cursor', 'request_id']),
    );
    expect(document.paths['/api/usage']?.get.parameters.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['group_by', 'bucket']));
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['LogList', 'UsageReport']));
  });
});

describe('parseIsoTime', () => {
  it('normalises dates and zoned date-times to the ledger form and refuses the rest', () => {
    expect(parseIsoTime('2026-11-23')).toBe('2026-11-23T00:00:00.000Z');
    expect(parseIsoTime('2026-11-23T12:00Z')).toBe('2026-11-23T12:00:00.000Z');
    expect(parseIsoTime('2026-11-23T12:00:00.5-05:30')).toBe('2026-11-23T17:30:00.500Z');
    expect(parseIsoTime('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
    for (const bad of ['2026-02-29', '2026-11-23T12:00:00', '2026-11-23 12:00:00Z', '2026-11-23T12:60Z', '1732363200000', '', 'now']) {
      expect(parseIsoTime(bad), bad).toBeUndefined();
    }
  });
});
