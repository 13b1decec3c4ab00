/**
 * `/api/v1/api_keys` (seed 001) on SQLite and PostgreSQL, once keys exist: deletion (the key stops working at
 * once), who may call what (INFERENCE keys only inference and their own rate_limits, ADMIN keys everything),
 * lastUsedAt within the debounce and over a restart; no plaintext key in the store or the logs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { apiKeySuite, describeNoKeyKept, expectError, pieces, startTime, viewFields } from './api-keys-support.js';

describe.each(storeKinds)('/api/v1/api_keys, access ($name store)', ({ create }) => {
  const suite = apiKeySuite(create);
  const { call, as, createKey, restart, secrets } = suite;

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
      suite.tollgate.clock.now = startTime;
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
        expectError(await suite.tollgate.request({ method: 'GET', url, admin: false }), 401, 'missing_api_key');
        expectError(await as('tg_not-a-real-key-000000000000000000000000000000', { method: 'GET', url }), 401, 'invalid_api_key');
        expectError(await as(inference.slice(0, -1), { method: 'GET', url }), 401, 'invalid_api_key');
      }
    });
  });

  describe('lastUsedAt', () => {
    it('is visible at once, written on the debounced flush, and kept over a restart', async () => {
      suite.tollgate.clock.now = startTime;
      const created = await createKey({ apiKeyType: 'INFERENCE' });
      const secret = secrets.at(-1)!;
      suite.tollgate.clock.now = Date.parse('2026-11-23T12:34:56.789Z');
      expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data.lastUsedAt).toBe('2026-11-23T12:34:56.789Z');
      const stored = () => suite.tollgate.database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      // Debounced: not written by the request itself.
      expect((await stored()).last_used_at).toBeNull();
      await suite.tollgate.gateway.services.apiKeys.flushLastUsed();
      expect((await stored()).last_used_at).toBe('2026-11-23T12:34:56.789Z');

      suite.tollgate.clock.now = Date.parse('2026-11-23T12:40:00.000Z');
      expect((await as(secret, { method: 'GET', url: '/api/v1/api_keys/rate_limits' })).status).toBe(200);
      // A graceful close writes what is pending.
      await restart();
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data.lastUsedAt).toBe('2026-11-23T12:40:00.000Z');
      // A refused use (expired key) is not a use.
      await call({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: created.id, expiresAt: '2020-01-01T00:00:00.000Z' } });
      suite.tollgate.clock.now = Date.parse('2026-11-23T12:50:00.000Z');
      expectError(await as(secret, { method: 'GET', url: '/v1/models' }), 401, 'api_key_expired');
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data.lastUsedAt).toBe('2026-11-23T12:40:00.000Z');
    });
  });

  describeNoKeyKept(suite, { storedDescription: 'patched by an admin key', minimumKeys: 4 });
});
