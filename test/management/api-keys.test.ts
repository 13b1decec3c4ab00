/**
 * `/api/v1/api_keys` (seed 001) on SQLite and PostgreSQL: creation (the secret shown once), the PATCH request
 * and response field for field, absent fields kept, `expiresAt` "" / null / past, validation; everything as before
 * after a restart; no plaintext key in the store or the logs. Deletion, who may call what and lastUsedAt are in
 * api-keys-access.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { apiKeySuite, describeNoKeyKept, expectError, pieces, startTime, viewFields } from './api-keys-support.js';

const seedPatch = {
  consumptionLimit: { usd: 50, diem: 10, vcu: 30 },
  limitPeriod: 'MONTH',
  description: 'Updated API Key Name',
  expiresAt: '2023-10-01T12:00:00.000Z',
};

describe.each(storeKinds)('/api/v1/api_keys ($name store)', ({ create }) => {
  const suite = apiKeySuite(create);
  const { call, as, createKey, restart, secrets } = suite;

  describe('creation', () => {
    it('answers the key with its secret once, in seed 001’s shape plus the extensions', async () => {
      suite.tollgate.clock.now = startTime;
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
        // Valid ISO times whose instant an offset moves past year 9999 or before 1970: shown back in UTC, they could
        // not be sent again.
        { apiKeyType: 'INFERENCE', expiresAt: '9999-12-31T23:00:00-02:00' },
        { apiKeyType: 'INFERENCE', expiresAt: '0000-01-01T00:30:00+01:00' },
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
      suite.tollgate.clock.now = startTime;
      const created = await createKey({ apiKeyType: 'ADMIN', description: 'before the patch' });
      suite.tollgate.clock.now = startTime + 60_000;
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
      suite.tollgate.clock.now = startTime + 60_000;
      expect((await call({ method: 'GET', url: `/api/v1/api_keys/${created.id}` })).body.data).toEqual(data);
    });

    it('keeps every absent field, and changes only what is sent', async () => {
      suite.tollgate.clock.now = startTime;
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
      suite.tollgate.clock.now = startTime;
      const created = await createKey({ apiKeyType: 'INFERENCE', expiresAt: '2026-11-23T13:00:00.000Z' });
      const secret = secrets.at(-1)!;
      expect((await as(secret, { method: 'GET', url: '/v1/models' })).status).toBe(200);

      // The expiry given at creation holds: an hour later the key is refused.
      suite.tollgate.clock.now = Date.parse('2026-11-23T13:00:00.000Z');
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
        suite.tollgate.request({ method: 'GET', url: '/v1/models', admin: false, headers: { 'x-api-key': secret } }),
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


  describeNoKeyKept(suite, { storedDescription: 'Updated API Key Name', minimumKeys: 5 });
});
