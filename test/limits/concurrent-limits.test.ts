/**
 * 100 concurrent requests on a key whose limit admits 10 never settle more than the limit, for each kind of
 * consumption limit (USD, tokens, requests): on one gateway with its counters in memory or in the real Redis,
 * and on two gateways built over the same store (SQLite file or PostgreSQL schema) sharing one Redis prefix,
 * which are separate processes as far as the counters know (each its own Redis connection and key index).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { redisUrl, skipWithout } from '../support/services.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { whenReceived } from '../inference/inference-helpers.js';
import {
  chatAs,
  counterKinds,
  countersFor,
  countRedisKeys,
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

const codes = { usd: 'API_KEY_USD_SPEND_LIMIT_EXCEEDED', tokens: 'API_KEY_TOKENS_SPEND_LIMIT_EXCEEDED', requests: 'API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED' } as const;
type Unit = keyof typeof codes;
const units: Unit[] = ['usd', 'tokens', 'requests'];

/** What one smallChat() reserves (USD and tokens), read while such a request hangs upstream. */
async function worstCaseOfSmallChat(rig: LimitsRig): Promise<{ usd: number; tokens: number }> {
  const probe = await createApiKey(rig.tollgate, { consumptionLimit: { usd: 1000, tokens: 1_000_000 }, limitPeriod: 'LIFETIME' });
  const controller = new AbortController();
  const before = rig.mock.requests.length;
  const settled = rig.ledger.rows.length;
  rig.mock.enqueue({ hang: true });
  const pending = chatAs(rig.tollgate, probe.secret, smallChat(), { signal: controller.signal }).catch((error: unknown) => error);
  await whenReceived(rig.mock.requests, before + 1);
  const reserved = (await usageOf(rig.tollgate, probe.id)).window.reserved;
  controller.abort();
  await rig.mock.whenAborted();
  await pending;
  await rig.ledger.whenRows(settled + 1);
  return { usd: reserved.usd, tokens: reserved.tokens };
}

/** A limit of the unit that admits exactly ten smallChat() worst cases. */
function limitAdmittingTen(unit: Unit, worst: { usd: number; tokens: number }): number {
  if (unit === 'requests') return 10;
  // Rounded to whole nano-units, as the counters hold amounts, so ten reservations meet it exactly.
  return unit === 'usd' ? Number((worst.usd * 10).toFixed(9)) : worst.tokens * 10;
}

/** Queues replies whose usage is exactly the worst case, so each served request settles all it reserved. */
function enqueueWorstCaseReplies(rig: LimitsRig, worst: { tokens: number }, count: number): void {
  const completion = 16;
  for (let index = 0; index < count; index += 1) {
    rig.mock.enqueue({
      status: 200,
      body: {
        id: `chatcmpl-worst${index}`,
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(64) }, finish_reason: 'length' }],
        usage: { prompt_tokens: worst.tokens - completion, completion_tokens: completion, total_tokens: worst.tokens },
      },
    });
  }
}

/** Sends 100 requests at once, spread over the gateways in turn, and sorts the answers. */
async function burst(gateways: Array<{ url: string }>, secret: string) {
  const replies = await Promise.all(Array.from({ length: 100 }, (_, index) => chatAs(gateways[index % gateways.length]!, secret, smallChat())));
  return { served: replies.filter((reply) => reply.status === 200), refused: replies.filter((reply) => reply.status !== 200) };
}

/** The promise: spend within the limit, nothing left reserved, the ledger agrees, every refusal a 402 of the unit. */
async function expectWithinLimit(
  unit: Unit,
  limit: number,
  outcome: Awaited<ReturnType<typeof burst>>,
  view: Pick<LiveGateway, 'request'>,
  ledgers: Array<Pick<LiveGateway, 'gateway' | 'database'>>,
  id: string,
) {
  // Answers leave before their settlements land; let every gateway's land (and write out its ledger buffer, the
  // gateways over one store sharing one ledger table) before reading.
  for (const gateway of ledgers) await gateway.gateway.flushUsage();
  const usage = await usageOf(view, id);
  expect(usage.window.spent[unit]).toBeLessThanOrEqual(limit);
  expect(usage.window.reserved).toEqual({ usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 });
  if (unit === 'requests') expect(outcome.served).toHaveLength(10);
  else expect(outcome.served.length).toBeGreaterThanOrEqual(10);
  expect(outcome.refused.length).toBe(100 - outcome.served.length);
  for (const refusal of outcome.refused) {
    expect(refusal.status).toBe(402);
    expect(refusal.body.error.code).toBe(codes[unit]);
  }
  const all = await ledgerRowsOf(ledgers[0]!, id);
  expect(all).toHaveLength(outcome.served.length);
  // Only the limited unit is counted in the window; it equals the ledger's total of that unit.
  if (unit === 'requests') expect(usage.window.spent.requests).toBe(all.length);
  if (unit === 'usd') expect(usage.window.spent.usd).toBeCloseTo(total(all, (row) => row.cost_usd), 12);
  if (unit === 'tokens') expect(usage.window.spent.tokens).toBe(total(all, (row) => row.input_tokens + row.output_tokens));
}

describe.each(counterKinds)('100 concurrent requests on one gateway ($name counters)', ({ name }) => {
  const prefix = freshRedisPrefix();
  let rig: LimitsRig;
  let worst: { usd: number; tokens: number };

  beforeAll(async () => {
    rig = await startLimitsRig(countersFor(name, prefix));
    worst = await worstCaseOfSmallChat(rig);
  });
  afterAll(async () => {
    await rig?.dispose();
    if (name === 'redis') await deleteRedisPrefix(prefix);
  });

  it.each(units)('a %s limit that admits 10 never settles more than the limit', async (unit) => {
    const limit = limitAdmittingTen(unit, worst);
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { [unit]: limit }, limitPeriod: 'LIFETIME' });
    const outcome = await burst([rig.tollgate], key.secret);
    await expectWithinLimit(unit, limit, outcome, rig.tollgate, [rig.tollgate], key.id);
  });

  it.each(['usd', 'tokens'] as const)('when every request uses its whole worst case, exactly 10 are served and the %s spend meets the limit', async (unit) => {
    const limit = limitAdmittingTen(unit, worst);
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { [unit]: limit }, limitPeriod: 'LIFETIME' });
    enqueueWorstCaseReplies(rig, worst, 10);
    const outcome = await burst([rig.tollgate], key.secret);
    expect(outcome.served).toHaveLength(10);
    await expectWithinLimit(unit, limit, outcome, rig.tollgate, [rig.tollgate], key.id);
    const usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window.spent[unit]).toBeCloseTo(limit, 9);
    expect(usage.window.remaining[unit]).toBeCloseTo(0, 9);
  });
});

const twoGatewaysSuite = '100 concurrent requests over two gateways sharing Redis and one $name store';
describe.skipIf(skipWithout('Redis', twoGatewaysSuite)).each(storeKinds)(twoGatewaysSuite, ({ create }) => {
  const prefix = freshRedisPrefix();
  let store: TestStore;
  let first: LimitsRig;
  let second: LiveGateway;
  let worst: { usd: number; tokens: number };

  beforeAll(async () => {
    store = create();
    first = await startLimitsRig({ store, redisUrl, redisKeyPrefix: prefix });
    // Built after the first configured the provider, key and prices, so it loads them from the shared store.
    second = await startLiveGateway({ store, redisUrl, redisKeyPrefix: prefix, ledgerFlushMs: 0 });
    watchLedger(second.gateway);
    worst = await worstCaseOfSmallChat(first);
  });
  afterAll(async () => {
    await second?.close();
    await first?.dispose();
    await deleteRedisPrefix(prefix);
    expect(await countRedisKeys(prefix)).toEqual([]);
  });

  it('are two gateways with their own counters connections and key indexes', () => {
    expect(second.gateway.services.counters).not.toBe(first.tollgate.gateway.services.counters);
    expect(second.gateway.services.catalog.snapshot.keys.size).toBe(1);
  });

  it.each(units)('a %s limit that admits 10 never settles more than the limit across both', async (unit) => {
    const limit = limitAdmittingTen(unit, worst);
    const key = await createApiKey(first.tollgate, { consumptionLimit: { [unit]: limit }, limitPeriod: 'LIFETIME' });
    // The second gateway learns of the new key the way a peer does: by reloading the keys from the store.
    await second.gateway.services.apiKeys.load();
    const outcome = await burst([first.tollgate, second], key.secret);
    await expectWithinLimit(unit, limit, outcome, first.tollgate, [first.tollgate, second], key.id);
    // Both gateways read the same window from Redis.
    expect((await usageOf(second, key.id)).window).toEqual((await usageOf(first.tollgate, key.id)).window);
  });

  it('serves exactly 10 across both when every request uses its whole worst case', async () => {
    const limit = limitAdmittingTen('usd', worst);
    const key = await createApiKey(first.tollgate, { consumptionLimit: { usd: limit }, limitPeriod: 'LIFETIME' });
    await second.gateway.services.apiKeys.load();
    enqueueWorstCaseReplies(first, worst, 10);
    const outcome = await burst([first.tollgate, second], key.secret);
    // Each gateway got 50 requests: counters that were not shared would have served 10 on each.
    expect(outcome.served).toHaveLength(10);
    await expectWithinLimit('usd', limit, outcome, first.tollgate, [first.tollgate, second], key.id);
    expect((await usageOf(second, key.id)).window.spent.usd).toBeCloseTo(limit, 9);
  });
});
