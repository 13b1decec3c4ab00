import { describe, expect, it } from 'vitest';
import { MemoryCounters } from '../../counters/memory-counters.js';
import type { ApiKeyRecord } from '../../store/api-key-record.js';
import type { ApiKeyRepository } from '../../store/api-key-repository.js';
import { credentialDigest } from '../auth/authenticator.js';
import { ApiKeyService, hashSecret } from './api-key-service.js';

/** An API-key service over an in-memory repository and a clock the test moves. */
function createService() {
  const rows = new Map<string, ApiKeyRecord>();
  const repository = {
    list: async () => [...rows.values()],
    insert: async (record: ApiKeyRecord) => void rows.set(record.id, record),
    update: async (record: ApiKeyRecord) => void rows.set(record.id, record),
    delete: async (id: string) => void rows.delete(id),
    touch: async () => undefined,
  } as unknown as ApiKeyRepository;
  const clock = { time: Date.UTC(2026, 10, 23, 12) };
  const service = new ApiKeyService({
    repository,
    counters: new MemoryCounters(),
    clock: () => clock.time,
    rates: { diemUsd: 1, vcuUsd: 1 },
    totalsSince: async () => new Map(),
    lastUsedFlushMs: 0,
  });
  return { service, clock };
}

describe('ApiKeyService.verify', () => {
  it('finds a key by the digest the authenticator passes, or by hashing the credential itself', async () => {
    const { service } = createService();
    const { apiKey, id } = await service.create({ apiKeyType: 'INFERENCE' });
    expect(hashSecret(apiKey)).toBe(credentialDigest(apiKey));
    expect(service.verify(apiKey)).toMatchObject({ kind: 'api-key', id, admin: false });
    expect(service.verify(apiKey, credentialDigest(apiKey))).toMatchObject({ kind: 'api-key', id });
    expect(service.verify('not-a-tollgate-key', credentialDigest('not-a-tollgate-key'))).toBeUndefined();
  });

  it('refuses a key from the request after its deletion or expiry', async () => {
    const { service, clock } = createService();
    const expiring = await service.create({ apiKeyType: 'INFERENCE', expiresAt: new Date(clock.time + 60_000).toISOString() });
    const deleted = await service.create({ apiKeyType: 'INFERENCE' });
    expect(service.verify(expiring.apiKey, credentialDigest(expiring.apiKey))).toBeDefined();
    expect(service.verify(deleted.apiKey, credentialDigest(deleted.apiKey))).toBeDefined();
    clock.time += 60_000;
    expect(() => service.verify(expiring.apiKey, credentialDigest(expiring.apiKey))).toThrow(/expired/);
    await service.delete(deleted.id);
    expect(service.verify(deleted.apiKey, credentialDigest(deleted.apiKey))).toBeUndefined();
  });

  it('replaces a key’s record on every change instead of changing it, as the limit enforcer relies on', async () => {
    const { service, clock } = createService();
    const { id } = await service.create({ apiKeyType: 'INFERENCE', consumptionLimit: { usd: 5 }, limitPeriod: 'EPOCH' });
    const before = service.require(id);
    const snapshot = structuredClone(before);
    clock.time += 1000;
    await service.update({ id, consumptionLimit: { usd: 7, tokens: 100 }, limitPeriod: 'MONTH', rateLimits: { rpm: 3 } });
    const after = service.require(id);
    expect(after).not.toBe(before);
    expect(before).toEqual(snapshot);
    expect(after).toMatchObject({ limits: { usd: 7, tokens: 100 }, period: 'MONTH', periodSince: clock.time, rateLimits: { rpm: 3 } });
    // Keeping the period keeps the moment it was chosen.
    await service.update({ id, limitPeriod: 'MONTH', description: 'same period' });
    expect(service.require(id).periodSince).toBe(after.periodSince);
  });
});
