/**
 * What a client is told when its API key may not make a request: 402 per consumption unit (USD, diem and VCU
 * valued with the configured rates, tokens, requests) in the seed-002 error shape with the window's reset time;
 * 400 `model_price_unknown` for a USD-limited key and a model without a price; 429 with `x-ratelimit-*` and
 * `retry-after` for rpm, tpm and maxConcurrent; 403 for a model outside the key's `models` list, which also
 * filters /v1/models. Nothing refused reaches the upstream or holds anything in the counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whenReceived, type GatewayReply } from '../inference/inference-helpers.js';
import {
  chatAs,
  counterKinds,
  countersFor,
  createApiKey,
  deleteRedisPrefix,
  freshRedisPrefix,
  ledgerRowsOf,
  smallChat,
  startLimitsRig,
  usageOf,
  type LimitsRig,
} from './limit-helpers.js';

/** TOLLGATE_DIEM_USD / TOLLGATE_VCU_USD as the gateway is configured here. */
const rates = { diemUsd: 2, vcuUsd: 0.5 };
const startTime = Date.parse('2026-11-23T12:00:00.000Z');
const zero = { usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 };

/** The seed-002 error object, field for field. */
function expectErrorBody(reply: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(reply.status).toBe(status);
  expect(Object.keys(reply.body).sort()).toEqual(['error', 'event_id', 'extra_fields', 'is_bifrost_error', 'status_code', 'type']);
  expect(Object.keys(reply.body.error).sort()).toEqual(['code', 'event_id', 'message', 'param', 'type']);
  expect(reply.body).toMatchObject({ is_bifrost_error: true, status_code: status, type: reply.body.error.type, error: { code, event_id: reply.body.event_id } });
  expect(reply.body.event_id).toBe(reply.headers.get('x-request-id'));
  expect(Object.keys(reply.body.extra_fields).sort()).toEqual(['model_requested', 'provider', 'request_type']);
}

describe.each(counterKinds)('refusals ($name counters)', ({ name }) => {
  const prefix = freshRedisPrefix();
  let rig: LimitsRig;
  /** One smallChat()'s reservation, in USD and tokens. */
  let worst: { usd: number; tokens: number };

  beforeAll(async () => {
    rig = await startLimitsRig({ rates, ...countersFor(name, prefix) });
    const probe = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 1000, tokens: 1_000_000 }, limitPeriod: 'LIFETIME' });
    const controller = new AbortController();
    const before = rig.mock.requests.length;
    rig.mock.enqueue({ hang: true });
    const pending = chatAs(rig.tollgate, probe.secret, smallChat(), { signal: controller.signal }).catch((error: unknown) => error);
    await whenReceived(rig.mock.requests, before + 1);
    const reserved = (await usageOf(rig.tollgate, probe.id)).window.reserved;
    worst = { usd: reserved.usd, tokens: reserved.tokens };
    const settled = rig.ledger.rows.length;
    controller.abort();
    await rig.mock.whenAborted();
    await pending;
    await rig.ledger.whenRows(settled + 1);
  });
  afterAll(async () => {
    await rig?.dispose();
    if (name === 'redis') await deleteRedisPrefix(prefix);
  });
  const reset = () => {
    rig.tollgate.clock.now = startTime;
  };

  /** Queues a reply whose usage is exactly one smallChat() worst case. */
  function enqueueWorstCaseReply() {
    rig.mock.enqueue({
      status: 200,
      body: {
        id: 'chatcmpl-worst',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'length' }],
        usage: { prompt_tokens: worst.tokens - 16, completion_tokens: 16, total_tokens: worst.tokens },
      },
    });
  }

  /** Expects a refusal that sent nothing upstream and left nothing reserved. */
  async function refusedWithoutTrace(id: string, send: () => Promise<GatewayReply>) {
    const upstream = rig.mock.requests.length;
    const reply = await send();
    expect(rig.mock.requests.length).toBe(upstream);
    expect((await usageOf(rig.tollgate, id)).window.reserved).toEqual(zero);
    return reply;
  }

  describe('402 per consumption unit', () => {
    it.each([
      { unit: 'usd', code: 'API_KEY_USD_SPEND_LIMIT_EXCEEDED', limit: () => ({ usd: worst.usd }) },
      // One worst case is worst.usd dollars = worst.usd / diemUsd diem = worst.usd / vcuUsd VCU.
      { unit: 'diem', code: 'API_KEY_DIEM_SPEND_LIMIT_EXCEEDED', limit: () => ({ diem: worst.usd / rates.diemUsd }) },
      { unit: 'vcu', code: 'API_KEY_VCU_SPEND_LIMIT_EXCEEDED', limit: () => ({ vcu: worst.usd / rates.vcuUsd }) },
      { unit: 'tokens', code: 'API_KEY_TOKENS_SPEND_LIMIT_EXCEEDED', limit: () => ({ tokens: worst.tokens }) },
      { unit: 'requests', code: 'API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED', limit: () => ({ requests: 1 }) },
    ])('$unit: a limit of one worst case serves one request, then answers 402 $code with the reset time', async ({ code, limit }) => {
      reset();
      // The reply uses the whole worst case, so the second request can never fit.
      enqueueWorstCaseReply();
      const key = await createApiKey(rig.tollgate, { consumptionLimit: limit(), limitPeriod: 'EPOCH' });
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      const refused = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat()));
      expectErrorBody(refused, 402, code);
      expect(refused.body.error.message).toContain('the window resets at 2026-11-24T00:00:00.000Z');
      expect(refused.headers.get('x-tollgate-limit-resets-at')).toBe('2026-11-24T00:00:00.000Z');
      expect(refused.headers.get('x-should-retry')).toBe('false');
      expect(refused.text).not.toContain(key.secret);
      // A refused request is not a request: no ledger row, nothing counted.
      expect(await ledgerRowsOf(rig.tollgate, key.id)).toHaveLength(1);
      // The key can see for itself that it is spent.
      const own = await fetch(`${rig.tollgate.url}/api/v1/api_keys/rate_limits`, { headers: { authorization: `Bearer ${key.secret}` } });
      expect(((await own.json()) as any).data).toMatchObject({ accessPermitted: false, resetsAt: '2026-11-24T00:00:00.000Z' });
    });

    it('names the unit whose limit is the one exceeded when a key has several', async () => {
      reset();
      const key = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 1000, diem: 1000, vcu: (worst.usd / rates.vcuUsd) * 0.5, tokens: 1_000_000 }, limitPeriod: 'MONTH' });
      const refused = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat()));
      expectErrorBody(refused, 402, 'API_KEY_VCU_SPEND_LIMIT_EXCEEDED');
      expect(refused.body.error.message).toContain('the window resets at 2026-12-01T00:00:00.000Z');
    });

    it('shows spend in diem and VCU with the configured rates', async () => {
      reset();
      const key = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 10, diem: 10, vcu: 10 }, limitPeriod: 'EPOCH' });
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      const { window } = await usageOf(rig.tollgate, key.id);
      expect(window.spent.usd).toBeGreaterThan(0);
      expect(window.spent.diem).toBeCloseTo(window.spent.usd / rates.diemUsd, 12);
      expect(window.spent.vcu).toBeCloseTo(window.spent.usd / rates.vcuUsd, 12);
      expect(window.remaining.diem).toBeCloseTo(10 - window.spent.usd / rates.diemUsd, 12);
    });
  });

  describe('model_price_unknown', () => {
    it('answers 400 to a USD-limited key calling a model without a price, and serves keys without a USD limit', async () => {
      reset();
      const limited = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 5 } });
      for (const limits of [{ usd: 5 }, { diem: 5 }, { vcu: 5 }]) {
        const key = await createApiKey(rig.tollgate, { consumptionLimit: limits });
        const refused = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat('hi', { model: 'openai/tollgate-unpriced-model' })));
        expectErrorBody(refused, 400, 'model_price_unknown');
        expect(refused.body.error.param).toBe('model');
        expect(refused.body.extra_fields).toMatchObject({ provider: 'openai', model_requested: 'openai/tollgate-unpriced-model' });
      }
      expect((await chatAs(rig.tollgate, limited.secret, smallChat())).status).toBe(200);
      const counted = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 5 } });
      const served = await chatAs(rig.tollgate, counted.secret, smallChat('hi', { model: 'openai/tollgate-unpriced-model' }));
      expect(served.status).toBe(200);
      expect((await usageOf(rig.tollgate, counted.id)).window.spent.requests).toBe(1);
    });
  });

  describe('rate limits: 429 with x-ratelimit-* and retry-after', () => {
    it('rpm: refuses past the limit until the next minute', async () => {
      rig.tollgate.clock.now = Date.parse('2026-11-23T12:00:30.000Z');
      const key = await createApiKey(rig.tollgate, { rateLimits: { rpm: 2 } });
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      const refused = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat()));
      expectErrorBody(refused, 429, 'RATE_LIMIT_RPM_EXCEEDED');
      expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(refused.headers.get('x-ratelimit-reset-requests')).toBe('2026-11-23T12:01:00.000Z');
      expect(refused.headers.get('retry-after')).toBe('30');
      rig.tollgate.clock.now = Date.parse('2026-11-23T12:00:59.999Z');
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(429);
      rig.tollgate.clock.now = Date.parse('2026-11-23T12:01:00.000Z');
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
    });

    it('tpm: refuses a request whose worst case does not fit in the minute’s tokens', async () => {
      rig.tollgate.clock.now = Date.parse('2026-11-23T12:05:45.000Z');
      const limit = Math.floor(worst.tokens * 1.5);
      const key = await createApiKey(rig.tollgate, { rateLimits: { tpm: limit } });
      enqueueWorstCaseReply();
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      const refused = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat()));
      expectErrorBody(refused, 429, 'RATE_LIMIT_TPM_EXCEEDED');
      expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe(String(limit));
      expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe(String(limit - worst.tokens));
      expect(refused.headers.get('x-ratelimit-reset-tokens')).toBe('2026-11-23T12:06:00.000Z');
      expect(refused.headers.get('retry-after')).toBe('15');
      rig.tollgate.clock.now = Date.parse('2026-11-23T12:06:00.000Z');
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
    });

    it('maxConcurrent: refuses while the key’s requests are in flight, and serves once one ends', async () => {
      reset();
      const key = await createApiKey(rig.tollgate, { rateLimits: { maxConcurrent: 1 } });
      const controller = new AbortController();
      const before = rig.mock.requests.length;
      const settled = rig.ledger.rows.length;
      rig.mock.enqueue({ hang: true });
      const pending = chatAs(rig.tollgate, key.secret, smallChat(), { signal: controller.signal }).catch((error: unknown) => error);
      await whenReceived(rig.mock.requests, before + 1);
      const upstream = rig.mock.requests.length;
      const refused = await chatAs(rig.tollgate, key.secret, smallChat());
      expect(rig.mock.requests.length).toBe(upstream);
      expectErrorBody(refused, 429, 'RATE_LIMIT_CONCURRENT_EXCEEDED');
      expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('1');
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(refused.headers.get('retry-after')).toBe('1');
      controller.abort();
      await rig.mock.whenAborted();
      await pending;
      await rig.ledger.whenRows(settled + 1);
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
    });

    it('answers the rate limits through GET /api/v1/api_keys/rate_limits for the key itself', async () => {
      reset();
      const key = await createApiKey(rig.tollgate, { rateLimits: { rpm: 5, tpm: 5000, maxConcurrent: 2 }, consumptionLimit: { usd: 3 } });
      const response = await fetch(`${rig.tollgate.url}/api/v1/api_keys/rate_limits`, { headers: { authorization: `Bearer ${key.secret}` } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as any;
      expect(body.success).toBe(true);
      expect(body.data).toMatchObject({
        accessPermitted: true,
        keyExpiration: null,
        consumptionLimits: { usd: 3, diem: null, vcu: null },
        limitPeriod: 'EPOCH',
        resetsAt: '2026-11-24T00:00:00.000Z',
        rateLimits: { rpm: 5, tpm: 5000, maxConcurrent: 2 },
      });
    });
  });

  describe('the key’s models list', () => {
    it('refuses other models with 403 before anything is reserved or sent, and filters /v1/models', async () => {
      reset();
      const key = await createApiKey(rig.tollgate, { models: ['openai/gpt-4o-mini'], consumptionLimit: { requests: 10 } });
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      for (const model of ['openai/gpt-4o', 'gpt-4o']) {
        const refused = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat('hi', { model })));
        expectErrorBody(refused, 403, 'model_not_allowed');
      }
      const fallback = await refusedWithoutTrace(key.id, () => chatAs(rig.tollgate, key.secret, smallChat('hi', { fallbacks: ['openai/gpt-4o'] })));
      expectErrorBody(fallback, 403, 'model_not_allowed');
      expect((await usageOf(rig.tollgate, key.id)).window.spent.requests).toBe(1);

      const list = await fetch(`${rig.tollgate.url}/v1/models`, { headers: { authorization: `Bearer ${key.secret}` } });
      const ids = ((await list.json()) as any).data.map((model: { id: string }) => model.id);
      expect(ids).toEqual(['openai/gpt-4o-mini']);
      const unlisted = await fetch(`${rig.tollgate.url}/v1/models/openai/gpt-4o`, { headers: { authorization: `Bearer ${key.secret}` } });
      expect(unlisted.status).toBe(404);

      const open = await createApiKey(rig.tollgate, {});
      const all = await fetch(`${rig.tollgate.url}/v1/models`, { headers: { authorization: `Bearer ${open.secret}` } });
      const allIds = ((await all.json()) as any).data.map((model: { id: string }) => model.id);
      expect(allIds).toContain('openai/gpt-4o');
      expect(allIds).toContain('openai/gpt-4o-mini');
    });

    it('accepts a bare model name in the list for the model on any provider', async () => {
      reset();
      const key = await createApiKey(rig.tollgate, { models: ['gpt-4o-mini'] });
      expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
      expectErrorBody(await chatAs(rig.tollgate, key.secret, smallChat('hi', { model: 'openai/gpt-4o' })), 403, 'model_not_allowed');
      const list = await fetch(`${rig.tollgate.url}/v1/models`, { headers: { authorization: `Bearer ${key.secret}` } });
      expect(((await list.json()) as any).data.map((model: { id: string }) => model.id)).toEqual(['openai/gpt-4o-mini']);
    });
  });
});
