/**
 * `/api/v1/api_keys` (seed 001) on SQLite and PostgreSQL: creation (the secret shown once), the PATCH request
 * and response field for field, absent fields kept, `expiresAt` "" / null / past, deletion, validation; who may
 * call what (INFERENCE keys only inference and their own rate_limits, ADMIN keys everything); lastUsedAt within
 * the debounce; no plaintext key in the store or the logs; everything as before after a restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';

type Reply = Awaited<ReturnType<TestGateway['request']>>;

const startTime = Date.parse('2026-11-23T12:00:00.000Z');
/** Seed 001's field order, then Tollgate's extensions. */
const viewFields = ['apiKeyType', 'consumptionLimits', 'limitPeriod', 'createdAt', 'expiresAt', 'id', 'last6Chars', 'lastUsedAt', 'description', 'models', 'rateLimits', 'usage'];
const seedPatch = {
  consumptionLimit: { usd: 50, diem: 10, vcu: 30 },
  limitPeriod: 'MONTH',
  description: 'Updated API Key Name',
  expiresAt: '2023-10-01T12:00:00.000Z',
};

function expectError(reply: Reply, status: number, code?: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toMatchObject({ status_code: status, is_bifrost_error: true, error: { event_id: reply.body.event_id } });
  if (code !== undefined) expect(reply.body.error.code).toBe(code);
}

/** Every 6-character piece of a secret: a response that echoes "any part of the key" contains one. */
function pieces(secret: string): string[] {
  const body = secret.slice(3);
  return Array.from({ length: body.length - 5 }, (_, index) => body.slice(index, index + 6));
}

describe.each(storeKinds)('/api/v1/api_keys ($name store)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  /** Every secret created in this suite, for the scans. */
  const secrets: string[] = [];
  const allLogs: string[] = [];

  const call = (options: Parameters<TestGateway['request']>[0]) => tollgate.request(options);
  const as = (secret: string, options: Parameters<TestGateway['request']>[0]) =>
    tollgate.request({ ...options, admin: false, headers: { authorization: `Bearer ${secret}`, ...options.headers } });
  async function createKey(body: Record<string, unknown>): Promise<any> {
    const reply = await call({ method: 'POST', url: '/api/v1/api_keys', body });
    expect(reply.status, reply.text).toBe(200);
    secrets.push(reply.body.data.apiKey);
    return reply.body.data;
  }
  const restart = async () => {
    allLogs.push(...tollgate.logs);
    await tollgate.close();
    tollgate = await startTestGateway(store, { ledgerFlushMs: 0 });
    tollgate.clock.now = startTime;
  };

  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store, { ledgerFlushMs: 0 });
  });
  afterAll(async () => {
    await tollgate?.close();
    await store?.dispose();
  });

  describe('creation', () => {
    it('answers the key with its secret once, in seed 001’s shape plus the extensions', async () => {
      tollgate.clock.now = startTime;
      const created = await call({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', description: 'first key' } });
      expect(created.status).toBe(200);
      expect(created.body.success).toBe(true);
      expect(Object.keys(created.body)).toEqual(['data', 'success']);
      const data = created.body.data;
      secrets.push(data.apiKey);
      expect(Object.keys(data)).toEqual([...viewFields, 'apiKey']);
      expect(data.apiKey).toMatch(/^tg_[A-Za-z0-9_-]{43}$/);
      expect(data).toMatchObject({
        apiKeyType: 'INFERENCE',
        consumptionLimits: { usd: null, diem: null, vcu: null },
        limitPeriod: 'EPOCH',
        createdAt: '2026-11-23T12:00:00.000Z',
        expiresAt: null,
        last6Chars: data.apiKey.slice(-6),
        lastUsedAt: null,
        description: 'first key',
        models: [],
        rateLimits: { rpm: null, tpm: null, maxConcurrent: null },
      });
      expect(Object.keys(data.consumptionLimits)).toEqual(['usd', 'diem', 'vcu']);
      expect(data.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(data.usage).toEqual({
        window: {
          start: '2026-11-23T12:00:00.000Z',
          resetsAt: '2026-11-24T00:00:00.000Z',
          spent: { usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 },
          reserved: { usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 },
          remaining: {},
        },
        trailingSevenDays: { usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 },
      });

      // Never again: not in the list, nor in a read.
      const read = await call({ method: 'GET', url: `/api/v1/api_keys/${data.id}` });
      expect(Object.keys(read.body.data)).toEqual(viewFields);
      expect(read.text).not.toContain(data.apiKey);
      const listed = await call({ method: 'GET', url: '/api/v1/api_keys' });
      expect(listed.body.success).toBe(true);
      expect(listed.body.data.map((key: { id: string }) => key.id)).toContain(data.id);
      for (const key of listed.body.data) expect(Object.keys(key)).toEqual(viewFields);
      expect(listed.text).not.toContain(data.apiKey);
    });

    it('takes every field, tokens and requests limits included', async () => {
      const data = await createKey({
        apiKeyType: 'ADMIN',
        description: 'all fields',
        consumptionLimit: { usd: 1.5, diem: 2, vcu: 3, tokens: 1000, requests: 20 },
        limitPeriod: 'LIFETIME',
        expiresAt: '2027-01-01T00:00:00.000Z',
        models: ['openai/gpt-4o-mini', 'claude-sonnet-4'],
        rateLimits: { rpm: 60, tpm: 10_000, maxConcurrent: 4 },
      });
      expect(data).toMatchObject({
        apiKeyType: 'ADMIN',
        consumptionLimits: { usd: 1.5, diem: 2, vcu: 3, tokens: 1000, requests: 20 },
        limitPeriod: 'LIFETIME',
        expiresAt: '2027-01-01T00:00:00.000Z',
        models: ['openai/gpt-4o-mini', 'claude-sonnet-4'],
        rateLimits: { rpm: 60, tpm: 10_000, maxConcurrent: 4 },
      });
      expect(data.usage.window).toMatchObject({ resetsAt: null, remaining: { usd: 1.5, diem: 2, vcu: 3, tokens: 1000, requests: 20 } });
    });

    it('refuses invalid bodies with 400', async () => {
      const bad: unknown[] = [
        {},
        { apiKeyType: 'ROOT' },
        { apiKeyType: 'INFERENCE', limitPeriod: 'WEEK' },
        { apiKeyType: 'INFERENCE', consumptionLimit: { usd: -1 } },
        { apiKeyType: 'INFERENCE', consumptionLimit: { usd: 'ten' } },
        { apiKeyType: 'INFERENCE', consumptionLimit: { tokens: 1.5 } },
        { apiKeyType: 'INFERENCE', consumptionLimit: { euros: 5 } },
        { apiKeyType: 'INFERENCE', expiresAt: 'tomorrow' },
        { apiKeyType: 'INFERENCE', rateLimits: { rpm: 0 } },
        { apiKeyType: 'INFERENCE', models: [''] },
        { apiKeyType: 'INFERENCE', apiKey: 'tg_choose-my-own' },
      ];
      const before = (await call({ method: 'GET', url: '/api/v1/api_keys' })).body.data.length;
      for (const body of bad) expectError(await call({ method: 'POST', url: '/api/v1/api_keys', body }), 400);
      expect((await call({ method: 'GET', url: '/api/v1/api_keys' })).body.data.length).toBe(before);
    });
  });

  describe('PATCH (seed 001)', () => {
    it('takes seed 001’s request and answers its response, field for field', async () => {
      tollgate.clock.now = startTime;
      const created = await createKey({ apiKeyType: 'ADMIN', description: 'before the patch' });
      tollgate.clock.now = startTime + 60_000;
      const patched = await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, ...seedPatch } });
      expect(patched.status, patched.text).toBe(200);
      expect(Object.keys(patched.body)).toEqual(['data', 'success']);
      expect(patched.body.success).toBe(true);
      const data = patched.body.data;
      expect(Object.keys(data)).toEqual(viewFields);
      expect(data).toMatchObject({
        apiKeyType: 'ADMIN',
        consumptionLimits: { usd: 50, diem: 10, vcu: 30 },
        limitPeriod: 'MONTH',
        createdAt: created.createdAt,
        expiresAt: '2023-10-01T12:00:00.000Z',
        id: created.id,
        last6Chars: created.last6Chars,
        lastUsedAt: null,
        description: 'Updated API Key Name',
      });
      expect(data.consumptionLimits).toEqual({ usd: 50, diem: 10, vcu: 30 });
      expect(typeof data.createdAt).toBe('string');
      expect(patched.text).not.toContain(secrets.at(-1)!);
      // The change of period starts a new MONTH window now.
      expect(data.usage.window).toMatchObject({ start: '2026-11-23T12:01:00.000Z', resetsAt: '2026-12-01T00:00:00.000Z' });

      // The same through a read, and after a restart (read back from the store).
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data).toEqual(data);
      await restart();
      tollgate.clock.now = startTime + 60_000;
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data).toEqual(data);
    });

    it('keeps every absent field, and changes only what is sent', async () => {
      tollgate.clock.now = startTime;
      const created = await createKey({
        apiKeyType: 'INFERENCE',
        description: 'keep me',
        consumptionLimit: { usd: 5, tokens: 500 },
        limitPeriod: 'LIFETIME',
        expiresAt: '2027-06-01T00:00:00.000Z',
        models: ['openai/gpt-4o'],
        rateLimits: { rpm: 10, maxConcurrent: 2 },
      });
      const untouched = await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id } });
      expect(untouched.status).toBe(200);
      const { usage: _usage, ...stable } = created;
      const { apiKey: _secret, ...view } = stable;
      expect(untouched.body.data).toMatchObject(view);

      const steps: Array<[Record<string, unknown>, Record<string, unknown>]> = [
        [{ description: 'renamed' }, { description: 'renamed' }],
        [{ description: '' }, { description: '' }],
        [{ consumptionLimit: { usd: 7 } }, { consumptionLimit: undefined, consumptionLimits: { usd: 7, diem: null, vcu: null, tokens: 500 } }],
        [{ consumptionLimit: { tokens: null, requests: 9 } }, { consumptionLimits: { usd: 7, diem: null, vcu: null, requests: 9 } }],
        [{ consumptionLimit: null }, { consumptionLimits: { usd: null, diem: null, vcu: null } }],
        [{ models: [] }, { models: [] }],
        [{ rateLimits: { rpm: null, tpm: 99 } }, { rateLimits: { rpm: null, tpm: 99, maxConcurrent: 2 } }],
        [{ rateLimits: null }, { rateLimits: { rpm: null, tpm: null, maxConcurrent: null } }],
      ];
      for (const [body, expected] of steps) {
        const reply = await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, ...body } });
        expect(reply.status, JSON.stringify(body)).toBe(200);
        const { consumptionLimit: _ignored, ...fields } = expected;
        expect(reply.body.data, JSON.stringify(body)).toMatchObject(fields);
        if ('consumptionLimits' in fields) expect(reply.body.data.consumptionLimits).toEqual(fields.consumptionLimits);
        expect(reply.body.data).toMatchObject({ apiKeyType: 'INFERENCE', limitPeriod: 'LIFETIME', expiresAt: '2027-06-01T00:00:00.000Z', id: created.id, createdAt: created.createdAt });
      }
    });

    it('removes the expiry with "" or null, and expires the key at once with a past time (401 echoing no part of it)', async () => {
      tollgate.clock.now = startTime;
      const created = await createKey({ apiKeyType: 'INFERENCE', expiresAt: '2026-11-23T13:00:00.000Z' });
      const secret = secrets.at(-1)!;
      expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);

      // The expiry given at creation holds: an hour later the key is refused.
      tollgate.clock.now = Date.parse('2026-11-23T13:00:00.000Z');
      const expired = await as(secret, { method: 'GET', url: '/v1/models' });
      expectError(expired, 401, 'api_key_expired');
      for (const piece of pieces(secret)) expect(expired.text).not.toContain(piece);

      for (const removal of ['', null]) {
        const cleared = await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: removal } });
        expect(cleared.status).toBe(200);
        expect(cleared.body.data.expiresAt).toBeNull();
        expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);
        await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: '2026-11-23T12:30:00.000Z' } });
        expectError(await as(secret, { method: 'GET', url: '/v1/models' }), 401, 'api_key_expired');
      }

      // A past time (seed 001's example) expires it at once, on every route, inference and the key's own limits.
      await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: '' } });
      const past = await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: '2023-10-01T12:00:00.000Z' } });
      expect(past.body.data.expiresAt).toBe('2023-10-01T12:00:00.000Z');
      for (const attempt of [
        as(secret, { method: 'GET', url: '/v1/models' }),
        as(secret, { method: 'GET', url: '/api/v1/api_keys/rate_limits' }),
        as(secret, { method: 'POST', url: '/v1/chat/completions', body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } }),
        tollgate.request({ method: 'GET', url: '/v1/models', admin: false, headers: { 'x-api-key': secret } }),
      ]) {
        const reply = await attempt;
        expectError(reply, 401, 'api_key_expired');
        for (const piece of pieces(secret)) expect(reply.text).not.toContain(piece);
      }
      // An offset time is accepted and shown in UTC.
      const offset = await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: '2027-01-01T02:00:00+02:00' } });
      expect(offset.body.data.expiresAt).toBe('2027-01-01T00:00:00.000Z');
      expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);
    });

    it('answers 404 for an unknown id and 400 for invalid bodies, changing nothing', async () => {
      const created = await createKey({ apiKeyType: 'INFERENCE', description: 'unchanged' });
      expectError(await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: 'no-such-key', description: 'x' } }), 404, 'api_key_not_found');
      for (const body of [
        { description: 'no id' },
        { id: '' },
        { id: created.id, limitPeriod: 'DAILY' },
        { id: created.id, consumptionLimit: { usd: -5 } },
        { id: created.id, consumptionLimit: { pounds: 5 } },
        { id: created.id, expiresAt: 'never' },
        { id: created.id, apiKeyType: 'ADMIN' },
        { id: created.id, rateLimits: { maxConcurrent: 1.5 } },
      ]) {
        expectError(await call({ method: 'PATCH', url: '/api/v1/api_keys', body }), 400);
      }
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data).toMatchObject({ description: 'unchanged', apiKeyType: 'INFERENCE', limitPeriod: 'EPOCH' });
    });
  });

  describe('deletion', () => {
    it('deletes by query or path, answering the deleted key; the key stops working at once', async () => {
      for (const style of ['query', 'path'] as const) {
        const created = await createKey({ apiKeyType: 'INFERENCE' });
        const secret = secrets.at(-1)!;
        expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);
        const url = style === 'query' ? `/api/v1/api_keys?id=${created.id}` : `/api/v1/api_keys/${created.id}`;
        const deleted = await call({ method: 'DELETE', url });
        expect(deleted.status).toBe(200);
        expect(deleted.body).toMatchObject({ success: true, data: { id: created.id } });
        expect(Object.keys(deleted.body.data)).toEqual(viewFields);
        expectError(await as(secret, { method: 'GET', url: '/v1/models' }), 401, 'invalid_api_key');
        expectError(await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` }), 404, 'api_key_not_found');
        expectError(await call({ method: 'DELETE', url }), 404, 'api_key_not_found');
      }
      expectError(await call({ method: 'DELETE', url: '/api/v1/api_keys' }), 400);
    });
  });

  describe('who may call what', () => {
    let inference: string;
    let admin: string;
    let adminId: string;

    beforeAll(async () => {
      tollgate.clock.now = startTime;
      await createKey({ apiKeyType: 'INFERENCE', consumptionLimit: { usd: 2 }, rateLimits: { rpm: 30 } });
      inference = secrets.at(-1)!;
      adminId = (await createKey({ apiKeyType: 'ADMIN' })).id;
      admin = secrets.at(-1)!;
    });

    /** Every management route the app serves, from its own OpenAPI document, with parameters filled in. */
    async function managementRoutes(): Promise<Array<{ method: string; url: string }>> {
      const document = (await call({ method: 'GET', url: '/openapi.json' })).body;
      const routes: Array<{ method: string; url: string }> = [];
      for (const [template, operations] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
        if (!template.startsWith('/api/') || template === '/api/v1/api_keys/rate_limits') continue;
        for (const method of Object.keys(operations)) {
          routes.push({ method: method.toUpperCase(), url: template.replace(/\{[^}]+\}/g, 'openai') });
        }
      }
      return routes;
    }

    it('refuses INFERENCE keys on every management route with 403 (admin_key_required), before any validation', async () => {
      const routes = await managementRoutes();
      const paths = new Set(routes.map((route) => route.url));
      for (const expected of ['/api/providers', '/api/v1/api_keys', '/api/keys', '/api/pricing-structures']) expect(paths).toContain(expected);
      expect(routes.length).toBeGreaterThan(10);
      for (const route of routes) {
        const reply = await as(inference, { ...route, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }) });
        expect(reply.status, `${route.method} ${route.url}`).toBe(403);
        expect(reply.body.error.code).toBe('admin_key_required');
        for (const piece of pieces(inference)) expect(reply.text).not.toContain(piece);
      }
      // Nothing was created through the refused calls.
      const keys = (await call({ method: 'GET', url: '/api/v1/api_keys' })).body.data;
      expect(keys.filter((key: { apiKeyType: string }) => key.apiKeyType === 'ADMIN').map((key: { id: string }) => key.id)).toContain(adminId);
    });

    it('lets INFERENCE keys use inference routes and read their own rate limits', async () => {
      expect((await as(inference, { method: 'GET', url: '/v1/models' })).status).toBe(200);
      // No provider is configured: the request is authenticated and routed, then refused for the model.
      const chat = await as(inference, { method: 'POST', url: '/v1/chat/completions', body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });
      expect([401, 403]).not.toContain(chat.status);
      const limits = await as(inference, { method: 'GET', url: '/api/v1/api_keys/rate_limits' });
      expect(limits.status).toBe(200);
      expect(limits.body).toMatchObject({
        success: true,
        data: {
          accessPermitted: true,
          keyExpiration: null,
          consumptionLimits: { usd: 2, diem: null, vcu: null },
          limitPeriod: 'EPOCH',
          resetsAt: '2026-11-24T00:00:00.000Z',
          rateLimits: { rpm: 30, tpm: null, maxConcurrent: null },
        },
      });
      expect(limits.body.data.usage.window.remaining).toEqual({ usd: 2 });
    });

    it('lets ADMIN keys use the management and the inference routes', async () => {
      for (const url of ['/api/providers', '/api/v1/api_keys', '/api/keys', '/api/pricing-structures', `/api/v1/api_keys/${adminId}`, '/v1/models', '/api/v1/api_keys/rate_limits']) {
        expect((await as(admin, { method: 'GET', url })).status, url).toBe(200);
      }
      const made = await as(admin, { method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', description: 'made by an admin key' } });
      expect(made.status).toBe(200);
      secrets.push(made.body.data.apiKey);
      const patched = await as(admin, { method: 'PATCH', url: '/api/v1/api_keys', body: { id: made.body.data.id, description: 'patched by an admin key' } });
      expect(patched.body.data.description).toBe('patched by an admin key');
      expect((await as(admin, { method: 'GET', url: '/api/v1/api_keys/rate_limits' })).body.data.limitPeriod).toBe('EPOCH');
    });

    it('refuses missing, unknown and malformed credentials with 401 everywhere', async () => {
      for (const url of ['/api/providers', '/api/v1/api_keys', '/v1/models', '/api/v1/api_keys/rate_limits']) {
        expectError(await tollgate.request({ method: 'GET', url, admin: false }), 401, 'missing_api_key');
        expectError(await as('tg_not-a-real-key-000000000000000000000000000000', { method: 'GET', url }), 401, 'invalid_api_key');
        expectError(await as(inference.slice(0, -1), { method: 'GET', url }), 401, 'invalid_api_key');
      }
    });
  });

  describe('lastUsedAt', () => {
    it('is visible at once, written on the debounced flush, and kept over a restart', async () => {
      tollgate.clock.now = startTime;
      const created = await createKey({ apiKeyType: 'INFERENCE' });
      const secret = secrets.at(-1)!;
      tollgate.clock.now = Date.parse('2026-11-23T12:34:56.789Z');
      expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data.lastUsedAt).toBe('2026-11-23T12:34:56.789Z');
      const stored = () => tollgate.database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      // Debounced: not written by the request itself.
      expect((await stored()).last_used_at).toBeNull();
      await tollgate.gateway.services.apiKeys.flushLastUsed();
      expect((await stored()).last_used_at).toBe('2026-11-23T12:34:56.789Z');

      tollgate.clock.now = Date.parse('2026-11-23T12:40:00.000Z');
      expect((await as(secret, { method: 'GET', url: '/api/v1/api_keys/rate_limits' })).status).toBe(200);
      // A graceful close writes what is pending.
      await restart();
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data.lastUsedAt).toBe('2026-11-23T12:40:00.000Z');
      // A refused use (expired key) is not a use.
      await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: '2020-01-01T00:00:00.000Z' } });
      tollgate.clock.now = Date.parse('2026-11-23T12:50:00.000Z');
      expectError(await as(secret, { method: 'GET', url: '/v1/models' }), 401, 'api_key_expired');
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data.lastUsedAt).toBe('2026-11-23T12:40:00.000Z');
    });
  });

  describe('secrets', () => {
    it('stores only the SHA-256 of each key, never the key', async () => {
      const rows = await tollgate.database.db.selectFrom('api_keys').select(['id', 'secret_hash', 'last6']).execute();
      expect(rows.length).toBeGreaterThan(5);
      const hashes = new Set(secrets.map((secret) => createHash('sha256').update(secret).digest('hex')));
      for (const row of rows) expect(hashes.has(row.secret_hash)).toBe(true);

      const scan = async (): Promise<string> => {
        if (store.kind === 'sqlite') {
          const files = [store.file!, `${store.file}-wal`].filter((file) => existsSync(file));
          return files.map((file) => readFileSync(file).toString('latin1')).join('\n');
        }
        const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = ${store.schema!}`.execute(tollgate.database.db);
        const texts: string[] = [];
        for (const { table_name: table } of tables.rows) {
          const result = await sql<{ row: string }>`select t::text as row from ${sql.id(store.schema!, table)} t`.execute(tollgate.database.db);
          texts.push(...result.rows.map((row) => row.row));
        }
        return texts.join('\n');
      };
      const stored = await scan();
      // The scan sees the rows it claims to (a hash and a description are stored in clear).
      expect(stored).toContain(rows[0]!.secret_hash);
      expect(stored).toContain('Updated API Key Name');
      for (const secret of secrets) {
        expect(stored).not.toContain(secret);
        expect(stored).not.toContain(secret.slice(3, 30));
      }
    });

    it('writes no key to any log line', () => {
      const logs = [...allLogs, ...tollgate.logs].join('');
      expect(allLogs.length + tollgate.logs.length).toBeGreaterThan(10);
      for (const secret of secrets) {
        expect(logs).not.toContain(secret);
        expect(logs).not.toContain(secret.slice(3, 20));
      }
    });
  });
});
