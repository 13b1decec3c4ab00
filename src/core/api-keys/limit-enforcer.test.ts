import { describe, expect, it } from 'vitest';
import { startEnforcerRig } from '../../../test/support/limit-enforcer-rig.js';
import type { LimitCounters } from '../../counters/limit-counters.js';
import { MemoryCounters } from '../../counters/memory-counters.js';
import { MAX_AMOUNT } from '../../counters/nano-units.js';
import type { PricingStructure } from '../pricing/pricing-structure.js';
import type { ApiKeyRecord } from '../../store/api-key-record.js';
import type { Principal } from '../auth/authenticator.js';
import type { MeteringOutcome } from '../inference/metering.js';

const clock = () => Date.parse('2026-12-06T12:00:00Z');

const record: ApiKeyRecord = {
  id: 'key-1',
  secretHash: 'a'.repeat(64),
  last6: 'abcdef',
  type: 'INFERENCE',
  description: 'test',
  limits: { usd: 100, requests: 1_000 },
  period: 'MONTH',
  periodSince: clock() - 86_400_000,
  expiresAt: null,
  models: [],
  rateLimits: { rpm: 600 },
  createdAt: 0,
  updatedAt: 0,
  lastUsedAt: null,
};

/** Counters that answer every reservation and settlement with a promise, as counters shared through Redis do. */
class PromisedCounters implements LimitCounters {
  readonly inner = new MemoryCounters({ now: clock });
  reserve: LimitCounters['reserve'] = async (input) => this.inner.reserve(input);
  settle: LimitCounters['settle'] = async (id, actual) => this.inner.settle(id, actual);
  add: LimitCounters['add'] = (bucket, amount, expiresAt) => this.inner.add(bucket, amount, expiresAt);
  read: LimitCounters['read'] = (buckets) => this.inner.read(buckets);
  flush: LimitCounters['flush'] = () => this.inner.flush();
  close: LimitCounters['close'] = () => this.inner.close();
}

async function enforcerWith(counters: LimitCounters) {
  const { enforcer, target, rows } = await startEnforcerRig({ record, counters, clock });
  const principal = { kind: 'api-key', id: record.id } as Principal;
  const begin = () =>
    enforcer.begin({ principal, requestId: `request-${rows.length}`, requestType: 'chat', targets: [target], body: { model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } });
  const outcome: MeteringOutcome = { status: 200, served: { target, keyId: 'pk', pricingStructureId: null }, usage: { inputTokens: 5, outputTokens: 7, cachedInputTokens: 0 }, latencyMs: 3, stream: false };
  return { enforcer, rows, begin, outcome };
}

describe('LimitEnforcer settlement', () => {
  it('settles with in-process counters at once: the ledger row is there as the ticket returns', async () => {
    const counters = new MemoryCounters({ now: clock });
    const { rows, begin, outcome } = await enforcerWith(counters);
    const ticket = await begin();
    ticket.settle(outcome);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ api_key_id: 'key-1', status: 200, input_tokens: 5, output_tokens: 7 });
  });

  it('with counters that answer later, appends the row once their settlement has landed', async () => {
    const { enforcer, rows, begin, outcome } = await enforcerWith(new PromisedCounters());
    const ticket = await begin();
    ticket.settle(outcome);
    expect(rows).toHaveLength(0);
    await enforcer.drain();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ api_key_id: 'key-1', status: 200 });
  });

  it('settles a cost beyond what the counters hold at their largest amount, releasing the reservation', async () => {
    // A key without a USD limit reserves no cost, so nothing caps the settled cost but the counters' own maximum.
    const unlimited: ApiKeyRecord = { ...record, limits: { requests: 1_000 }, rateLimits: { maxConcurrent: 1 } };
    const dearest: PricingStructure = { id: 'dear', name: 'dear', entries: [{ model: '*', input_per_million: 1e13, output_per_million: 1e13 }] };
    const counters = new MemoryCounters({ now: clock });
    const { enforcer, target, rows } = await startEnforcerRig({ record: unlimited, counters, clock, pricingStructure: (id) => (id === 'dear' ? dearest : undefined) });
    const principal = { kind: 'api-key', id: record.id } as Principal;
    const begin = () => enforcer.begin({ principal, requestId: `request-${rows.length}`, requestType: 'chat', targets: [target], body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });
    const ticket = await begin();
    ticket.settle({ status: 200, served: { target, keyId: 'pk', pricingStructureId: 'dear' }, usage: { inputTokens: 1e9, outputTokens: 0, cachedInputTokens: 0 }, latencyMs: 3, stream: false });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cost_usd).toBe(MAX_AMOUNT);
    // maxConcurrent 1: a reservation left held would refuse the next request.
    await expect(begin()).resolves.toBeDefined();
  });

  it('refuses the request that would pass a limit, whichever way the counters answer', async () => {
    for (const counters of [new MemoryCounters({ now: clock }), new PromisedCounters()]) {
      const { enforcer, begin, outcome } = await enforcerWith(counters);
      // rpm 600: the 601st reservation of the minute is refused, settled or not.
      for (let index = 0; index < 600; index += 1) (await begin()).settle(outcome);
      await enforcer.drain();
      await expect(begin()).rejects.toMatchObject({ status: 429 });
    }
  });
});
