/**
 * Limit windows follow the injected clock: EPOCH resets at 00:00 UTC, MONTH on the 1st of the UTC month,
 * LIFETIME never. Changing a limit's amount keeps the window's spend; changing the period starts counting
 * afresh. A refused key is served again once its window resets. And a restart loses no settled usage: a
 * gateway closed gracefully writes its ledger, and the next one over the same store shows the same spend
 * (memory counters rebuilt from the ledger; Redis counters simply kept).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { storeKinds } from '../support/stores.js';
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
  total,
  usageOf,
  watchLedger,
  type LimitsRig,
} from './limit-helpers.js';
import { startStallingUpstream } from './stalling-upstream.js';

const at = (iso: string) => Date.parse(iso);
const startTime = at('2026-11-23T12:00:00.000Z');

describe.each(counterKinds)('limit windows on the injected clock ($name counters)', ({ name }) => {
  const prefix = freshRedisPrefix();
  let rig: LimitsRig;

  beforeAll(async () => {
    rig = await startLimitsRig(countersFor(name, prefix));
  });
  afterAll(async () => {
    await rig?.dispose();
    if (name === 'redis') await deleteRedisPrefix(prefix);
  });

  /** Each test starts at the same moment; keys are fresh, so windows never carry over between tests. */
  const reset = () => {
    rig.tollgate.clock.now = startTime;
  };
  const served = async (secret: string) => {
    const reply = await chatAs(rig.tollgate, secret, smallChat());
    expect(reply.status).toBe(200);
    return reply;
  };

  it('EPOCH: counts from the key’s creation to 00:00 UTC, then afresh each UTC day', async () => {
    reset();
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 10, requests: 100 }, limitPeriod: 'EPOCH' });
    await served(key.secret);
    await served(key.secret);
    let usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window.start).toBe('2026-11-23T12:00:00.000Z');
    expect(usage.window.resetsAt).toBe('2026-11-24T00:00:00.000Z');
    expect(usage.window.spent.requests).toBe(2);
    const spentUsd = usage.window.spent.usd;
    expect(spentUsd).toBeGreaterThan(0);

    rig.tollgate.clock.now = at('2026-11-23T23:59:59.999Z');
    usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window.spent.requests).toBe(2);
    expect(usage.window.spent.usd).toBe(spentUsd);

    rig.tollgate.clock.now = at('2026-11-24T00:00:00.000Z');
    usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window).toMatchObject({ start: '2026-11-24T00:00:00.000Z', resetsAt: '2026-11-25T00:00:00.000Z' });
    expect(usage.window.spent).toEqual({ usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 });
    expect(usage.window.remaining).toEqual({ usd: 10, requests: 100 });
    await served(key.secret);
    expect((await usageOf(rig.tollgate, key.id)).window.spent.requests).toBe(1);
  });

  it('MONTH: resets on the 1st of the UTC month (and across the year end)', async () => {
    reset();
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 100 }, limitPeriod: 'MONTH' });
    await served(key.secret);
    let usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window).toMatchObject({ start: '2026-11-23T12:00:00.000Z', resetsAt: '2026-12-01T00:00:00.000Z' });

    rig.tollgate.clock.now = at('2026-11-30T23:59:59.999Z');
    expect((await usageOf(rig.tollgate, key.id)).window.spent.requests).toBe(1);

    rig.tollgate.clock.now = at('2026-12-01T00:00:00.000Z');
    usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window).toMatchObject({ start: '2026-12-01T00:00:00.000Z', resetsAt: '2027-01-01T00:00:00.000Z' });
    expect(usage.window.spent.requests).toBe(0);
    await served(key.secret);
    await served(key.secret);

    rig.tollgate.clock.now = at('2026-12-31T23:59:59.999Z');
    expect((await usageOf(rig.tollgate, key.id)).window.spent.requests).toBe(2);
    rig.tollgate.clock.now = at('2027-01-01T00:00:00.000Z');
    usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window).toMatchObject({ start: '2027-01-01T00:00:00.000Z', resetsAt: '2027-02-01T00:00:00.000Z' });
    expect(usage.window.spent.requests).toBe(0);
  });

  it('LIFETIME: never resets', async () => {
    reset();
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 2 }, limitPeriod: 'LIFETIME' });
    await served(key.secret);
    for (const later of ['2026-11-24T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2029-06-01T00:00:00.000Z']) {
      rig.tollgate.clock.now = at(later);
      const usage = await usageOf(rig.tollgate, key.id);
      expect(usage.window).toMatchObject({ start: '2026-11-23T12:00:00.000Z', resetsAt: null });
      expect(usage.window.spent.requests).toBe(1);
    }
    await served(key.secret);
    const refused = await chatAs(rig.tollgate, key.secret, smallChat());
    expect(refused.status).toBe(402);
    expect(refused.body.error.code).toBe('API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED');
    expect(refused.body.error.message).toContain('LIFETIME window never resets');
    expect(refused.headers.get('x-tollgate-limit-resets-at')).toBeNull();
  });

  it('serves a refused key again once its window resets', async () => {
    reset();
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 1 }, limitPeriod: 'EPOCH' });
    await served(key.secret);
    rig.tollgate.clock.now = at('2026-11-23T23:59:59.999Z');
    const refused = await chatAs(rig.tollgate, key.secret, smallChat());
    expect(refused.status).toBe(402);
    expect(refused.headers.get('x-tollgate-limit-resets-at')).toBe('2026-11-24T00:00:00.000Z');
    rig.tollgate.clock.now = at('2026-11-24T00:00:00.000Z');
    await served(key.secret);
  });

  it('keeps the window’s spend when the amount changes, and refuses or admits against the new amount', async () => {
    reset();
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 2, usd: 10 }, limitPeriod: 'EPOCH' });
    await served(key.secret);
    await served(key.secret);
    const before = (await usageOf(rig.tollgate, key.id)).window;
    expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(402);

    const raised = await rig.tollgate.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, consumptionLimit: { requests: 3, usd: 20 } } });
    expect(raised.status).toBe(200);
    expect(raised.body.data.usage.window.start).toBe(before.start);
    expect(raised.body.data.usage.window.spent).toEqual(before.spent);
    expect(raised.body.data.usage.window.remaining).toEqual({ requests: 1, usd: 20 - before.spent.usd });
    await served(key.secret);
    expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(402);

    const lowered = await rig.tollgate.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, consumptionLimit: { requests: 1 } } });
    expect(lowered.body.data.usage.window.spent.requests).toBe(3);
    expect(lowered.body.data.usage.window.remaining.requests).toBe(0);
    // The same period sent again is no change of period: the spend stays.
    const same = await rig.tollgate.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, limitPeriod: 'EPOCH' } });
    expect(same.body.data.usage.window.spent.requests).toBe(3);
  });

  it('starts counting afresh when the period changes', async () => {
    reset();
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 1 }, limitPeriod: 'EPOCH' });
    await served(key.secret);
    expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(402);

    rig.tollgate.clock.now = at('2026-11-23T15:00:00.000Z');
    const monthly = await rig.tollgate.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, limitPeriod: 'MONTH' } });
    expect(monthly.status).toBe(200);
    expect(monthly.body.data.limitPeriod).toBe('MONTH');
    expect(monthly.body.data.usage.window).toMatchObject({ start: '2026-11-23T15:00:00.000Z', resetsAt: '2026-12-01T00:00:00.000Z' });
    expect(monthly.body.data.usage.window.spent.requests).toBe(0);
    await served(key.secret);

    rig.tollgate.clock.now = at('2026-11-23T16:00:00.000Z');
    const lifetime = await rig.tollgate.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, limitPeriod: 'LIFETIME' } });
    expect(lifetime.body.data.usage.window).toMatchObject({ start: '2026-11-23T16:00:00.000Z', resetsAt: null });
    expect(lifetime.body.data.usage.window.spent.requests).toBe(0);
    await served(key.secret);

    // Back to EPOCH the same day: a new period again, so the spend of the earlier EPOCH choice is not revived.
    rig.tollgate.clock.now = at('2026-11-23T17:00:00.000Z');
    const daily = await rig.tollgate.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, limitPeriod: 'EPOCH' } });
    expect(daily.body.data.usage.window).toMatchObject({ start: '2026-11-23T17:00:00.000Z', resetsAt: '2026-11-24T00:00:00.000Z' });
    expect(daily.body.data.usage.window.spent.requests).toBe(0);
  });
});

describe.each(storeKinds)('a restart loses no settled usage ($name store)', ({ create }) => {
  describe.each(counterKinds)('$name counters', ({ name }) => {
    const prefix = freshRedisPrefix();
    const store = create();
    let rig: LimitsRig;
    /** The gateway open now: the rig's at first, then the one started after each restart. */
    let current: LiveGateway;
    /** Closes the open gateway gracefully and starts another over the same store, its clock at `now` from the start. */
    const restart = async (now = startTime) => {
      await current.close();
      const clock = { now };
      current = await startLiveGateway({ store, ledgerFlushMs: 0, ...countersFor(name, prefix), clock: () => clock.now });
      // The returned gateway's clock object is not the one it runs on; hand the running one over.
      current.clock = clock;
      return current;
    };

    beforeAll(async () => {
      rig = await startLimitsRig({ store, ...countersFor(name, prefix) });
      current = rig.tollgate;
    });
    afterAll(async () => {
      await current?.close();
      await rig.mock.close();
      await store.dispose();
      if (name === 'redis') await deleteRedisPrefix(prefix);
    });

    it('shows the same window spend after a graceful close and a new start over the same store', async () => {
      const full = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 10, tokens: 1_000_000, requests: 100 }, limitPeriod: 'EPOCH' });
      const usdOnly = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 10 }, limitPeriod: 'MONTH' });
      const lifetime = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 3 }, limitPeriod: 'LIFETIME' });
      for (const key of [full, usdOnly, lifetime]) {
        expect((await chatAs(rig.tollgate, key.secret, smallChat('first question'))).status).toBe(200);
        expect((await chatAs(rig.tollgate, key.secret, smallChat('a streamed one', { stream: true }))).status).toBe(200);
      }
      // One reply without usage: charged the reservation, which must survive the restart too.
      rig.mock.enqueue({
        status: 200,
        body: { id: 'chatcmpl-nousage', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] },
      });
      expect((await chatAs(rig.tollgate, full.secret, smallChat())).status).toBe(200);

      const before = new Map<string, any>();
      for (const key of [full, usdOnly, lifetime]) before.set(key.id, (await usageOf(rig.tollgate, key.id)).window);
      expect(before.get(full.id).spent.requests).toBe(3);
      // Nothing was written yet (ledgerFlushMs 0): the graceful close must write it.
      expect(rig.tollgate.gateway.services.ledger.pending).toBeGreaterThan(0);
      const again = await restart();
      for (const key of [full, usdOnly, lifetime]) {
        expect((await usageOf(again, key.id)).window).toEqual(before.get(key.id));
      }
      const rows = await ledgerRowsOf(again, full.id);
      expect(rows).toHaveLength(3);
      expect(before.get(full.id).spent.usd).toBeCloseTo(total(rows, (row) => row.cost_usd), 12);
      // The limit still holds after the restart: the LIFETIME key has one request left.
      expect((await chatAs(again, lifetime.secret, smallChat())).status).toBe(200);
      expect((await chatAs(again, lifetime.secret, smallChat())).status).toBe(402);
    });

    it('keeps a request that spans midnight in the window it was reserved in, before and after a restart', async () => {
      const gateway = current;
      await gateway.configureProvider('openai', { network_config: { base_url: rig.mock.baseUrl } });
      const watch = watchLedger(gateway.gateway);
      const stalling = await startStallingUpstream();
      await gateway.configureProvider('openai', { network_config: { base_url: stalling.baseUrl } });
      try {
        gateway.clock.now = at('2026-11-23T23:59:59.000Z');
        const key = await createApiKey(gateway, { consumptionLimit: { usd: 10, requests: 100 }, limitPeriod: 'EPOCH' });
        const settled = watch.rows.length;
        const controller = new AbortController();
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify(smallChat('hello there', { stream: true })),
          signal: controller.signal,
        });
        await response.body!.getReader().read();
        await stalling.whenStreaming();
        gateway.clock.now = at('2026-11-24T00:00:01.000Z');
        controller.abort();
        await stalling.whenAborted();
        await watch.whenRows(settled + 1);

        const today = (await usageOf(gateway, key.id)).window;
        expect(today.start).toBe('2026-11-24T00:00:00.000Z');
        expect(today.spent.requests).toBe(0);
        gateway.clock.now = at('2026-11-23T23:59:59.500Z');
        const yesterday = (await usageOf(gateway, key.id)).window;
        expect(yesterday.spent.requests).toBe(1);
        expect(yesterday.spent.usd).toBeGreaterThan(0);

        // Started after midnight, as a real restart would be: its current window is the new day's.
        const again = await restart(at('2026-11-24T00:00:01.000Z'));
        expect((await usageOf(again, key.id)).window).toEqual(today);
        // The ledger dates the request by its start, which is what a rebuild at any later time goes by.
        const rows = await ledgerRowsOf(again, key.id);
        expect(rows.map((row) => row.created_at)).toEqual(['2026-11-23T23:59:59.000Z']);
        expect(rows[0]!.cost_usd).toBeCloseTo(yesterday.spent.usd, 12);
      } finally {
        await stalling.close();
      }
    });

    it('applies a limit added to an unlimited key to the window’s spend so far, the same before and after a restart', async () => {
      const gateway = current;
      await gateway.configureProvider('openai', { network_config: { base_url: rig.mock.baseUrl } });
      const key = await createApiKey(gateway, { limitPeriod: 'EPOCH' });
      // Unlimited: counted only in the ledger, whose rows are still buffered (ledgerFlushMs 0).
      for (let index = 0; index < 2; index += 1) expect((await chatAs(gateway, key.secret, smallChat())).status).toBe(200);
      expect(gateway.gateway.services.ledger.pending).toBeGreaterThan(0);

      const limited = await gateway.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, consumptionLimit: { requests: 3, usd: 10 } } });
      expect(limited.status).toBe(200);
      const rows = await ledgerRowsOf(gateway, key.id);
      expect(rows).toHaveLength(2);
      expect(limited.body.data.usage.window.spent.requests).toBe(2);
      expect(limited.body.data.usage.window.spent.usd).toBeCloseTo(total(rows, (row) => row.cost_usd), 12);
      expect(limited.body.data.usage.window.remaining.requests).toBe(1);
      expect((await chatAs(gateway, key.secret, smallChat())).status).toBe(200);
      expect((await chatAs(gateway, key.secret, smallChat())).status).toBe(402);
      const before = (await usageOf(gateway, key.id)).window;

      const again = await restart(gateway.clock.now);
      expect((await usageOf(again, key.id)).window).toEqual(before);
      expect((await chatAs(again, key.secret, smallChat())).status).toBe(402);

      // Limits removed and added again in the same window: the counters already hold the spend, nothing is added twice.
      const unlimited = await again.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, consumptionLimit: { requests: null, usd: null } } });
      expect(unlimited.status, unlimited.text).toBe(200);
      const relimited = await again.request({ method: 'PATCH', url: '/api/v1/api_keys', body: { id: key.id, consumptionLimit: { requests: 5 } } });
      expect(relimited.body.data.usage.window.spent.requests).toBe(3);
    });
  });
});
