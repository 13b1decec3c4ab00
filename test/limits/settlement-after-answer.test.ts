/**
 * A request's answer leaves before its settlement lands in the counters (on Redis, a round trip saved on every
 * request), without loosening any limit: until the settlement lands the reservation, the request's worst case,
 * still holds. These tests hold the counters' settle replies back by hand and watch what the gateway does
 * meanwhile: the answer, the usage read, the next request at the limit, the ledger, a failing counter, shutdown.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCounters } from '../../src/counters/memory-counters.js';
import type { LimitCounters } from '../../src/counters/limit-counters.js';
import { chatAs, createApiKey, ledgerRowsOf, smallChat, startLimitsRig, usageOf, type LimitsRig } from './limit-helpers.js';

/** Memory counters whose settle replies wait until the test lets them through (or fails them). */
class HeldSettlements implements LimitCounters {
  readonly inner = new MemoryCounters();
  readonly held: Array<{ release: () => void; fail: (error: Error) => void }> = [];
  #arrived: Array<() => void> = [];

  reserve: LimitCounters['reserve'] = (input) => this.inner.reserve(input);
  add: LimitCounters['add'] = (bucket, amount, expiresAt) => this.inner.add(bucket, amount, expiresAt);
  read: LimitCounters['read'] = (buckets) => this.inner.read(buckets);
  flush: LimitCounters['flush'] = () => this.inner.flush();
  close: LimitCounters['close'] = () => this.inner.close();

  settle(reservationId: string, actual: Record<string, number>): Promise<{ settled: boolean }> {
    return new Promise((resolve, reject) => {
      this.held.push({ release: () => resolve(this.inner.settle(reservationId, actual)), fail: reject });
      for (const wake of this.#arrived.splice(0)) wake();
    });
  }

  /** Resolves once `count` settlements are being held. */
  whenHeld(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.held.length >= count) resolve();
        else this.#arrived.push(check);
      };
      check();
    });
  }
}

describe('settlement after the answer', () => {
  let rig: LimitsRig | undefined;
  let counters: HeldSettlements;

  afterEach(async () => {
    for (const { release } of counters.held.splice(0)) release();
    await rig?.dispose();
    rig = undefined;
  });

  async function start() {
    counters = new HeldSettlements();
    rig = await startLimitsRig({ counters });
    return rig;
  }

  it('answers before the counters confirm the settlement, and the reservation holds until they do', async () => {
    const { tollgate, ledger } = await start();
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 1 }, limitPeriod: 'LIFETIME' });

    const reply = await chatAs(tollgate, key.secret, smallChat());
    expect(reply.status).toBe(200);
    await counters.whenHeld(1);
    // The row is appended once the settlement lands: a row in the ledger means its request is counted.
    expect(ledger.rows).toHaveLength(0);

    // The one allowed request is still reserved, not yet spent: a second one is refused, never let through.
    const during = await usageOf(tollgate, key.id);
    expect(during.window.reserved.requests).toBe(1);
    expect(during.window.spent.requests).toBe(0);
    const second = await chatAs(tollgate, key.secret, smallChat());
    expect(second.status).toBe(402);
    expect(second.body.error.code).toBe('API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED');

    counters.held.shift()!.release();
    await ledger.whenRows(1);
    const usage = await usageOf(tollgate, key.id);
    expect(usage.window.spent.requests).toBe(1);
    expect(usage.window.reserved.requests).toBe(0);
    expect(ledger.rows.map((row) => row.status)).toEqual([200]);
  });

  it('lets flushUsage wait for the settlements issued before it, then write their rows', async () => {
    const { tollgate } = await start();
    const key = await createApiKey(tollgate, { consumptionLimit: { usd: 100 }, limitPeriod: 'LIFETIME' });
    expect((await chatAs(tollgate, key.secret, smallChat())).status).toBe(200);
    await counters.whenHeld(1);

    let flushed = false;
    const flushing = tollgate.gateway.flushUsage().then(() => {
      flushed = true;
    });
    // A whole request and answer later, the flush still waits: the settlement it covers has not landed.
    expect((await chatAs(tollgate, key.secret, smallChat())).status).toBe(200);
    await counters.whenHeld(2);
    expect(flushed).toBe(false);

    counters.held.shift()!.release();
    await flushing;
    // Only the settlements issued before the flush are waited for; the second one is still held.
    expect(counters.held).toHaveLength(1);
    const rows = await tollgate.database.db.selectFrom('usage_ledger').selectAll().where('api_key_id', '=', key.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('reports a settlement the counters fail, and still records the request in the ledger', async () => {
    const { tollgate, ledger } = await start();
    const key = await createApiKey(tollgate, { consumptionLimit: { usd: 100 }, limitPeriod: 'LIFETIME' });
    expect((await chatAs(tollgate, key.secret, smallChat())).status).toBe(200);
    await counters.whenHeld(1);

    counters.held.shift()!.fail(new Error('counter store unreachable'));
    await ledger.whenRows(1);
    await tollgate.gateway.flushUsage();
    expect(ledger.rows[0]!.status).toBe(200);
    expect(ledger.rows[0]!.cost_usd).toBeGreaterThan(0);
    const logged = tollgate.logs.join('');
    expect(logged).toContain('metering failed');
    expect(logged).toContain('counter store unreachable');
    // No request is left to report it: operators see it in the metrics.
    const metrics = await tollgate.request({ method: 'GET', url: '/metrics' });
    expect(metrics.text).toContain('tollgate_metering_failures_total{stage="settle"} 1');
  });

  it('waits on shutdown for a settlement in flight, so that its row reaches the store', async () => {
    const { tollgate, mock } = await start();
    rig = undefined; // closed here, piece by piece
    const key = await createApiKey(tollgate, { consumptionLimit: { usd: 100 }, limitPeriod: 'LIFETIME' });
    expect((await chatAs(tollgate, key.secret, smallChat())).status).toBe(200);
    await counters.whenHeld(1);

    const closing = tollgate.gateway.close();
    counters.held.shift()!.release();
    await closing;
    const rows = await tollgate.database.db.selectFrom('usage_ledger').selectAll().where('api_key_id', '=', key.id).execute();
    expect(rows).toHaveLength(1);
    await tollgate.database.close();
    await tollgate.store.dispose();
    await mock.close();
  });
});

describe('usage ledger writes that fail', () => {
  let rig: LimitsRig | undefined;
  afterEach(async () => {
    await rig?.dispose();
    rig = undefined;
  });

  it('keeps the rows of a failed write for the next one, and counts the failure in the metrics', async () => {
    rig = await startLimitsRig();
    const { tollgate } = rig;
    const key = await createApiKey(tollgate, { consumptionLimit: { usd: 100 }, limitPeriod: 'LIFETIME' });
    expect((await chatAs(tollgate, key.secret, smallChat())).status).toBe(200);

    // The table is away (as during a failing disk or a lost database connection): the batch cannot be written.
    await sql`alter table usage_ledger rename to usage_ledger_away`.execute(tollgate.database.db);
    await tollgate.gateway.flushUsage();
    expect(tollgate.gateway.services.ledger.pending).toBe(1);
    const metrics = await tollgate.request({ method: 'GET', url: '/metrics' });
    expect(metrics.text).toContain('tollgate_metering_failures_total{stage="ledger"} 1');
    expect(tollgate.logs.join('')).toContain('usage ledger write failed');

    await sql`alter table usage_ledger_away rename to usage_ledger`.execute(tollgate.database.db);
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 200, usage_missing: 0 });
    expect(tollgate.gateway.services.ledger.pending).toBe(0);
  });
});
