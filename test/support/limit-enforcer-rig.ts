/**
 * A LimitEnforcer on its own, without a store or a server: one API key served from memory, one OpenAI provider key,
 * the target `openai/gpt-4o-mini`, and a ledger that keeps the rows it is given. Unit tests and
 * bench/micro/limit-enforcer.ts build it the same way.
 */
import { ApiKeyService } from '../../src/core/api-keys/api-key-service.js';
import type { LedgerWriter } from '../../src/core/api-keys/ledger-writer.js';
import { LimitEnforcer } from '../../src/core/api-keys/limit-enforcer.js';
import { createPriceCatalog } from '../../src/core/pricing/index.js';
import type { PricingStructure } from '../../src/core/pricing/pricing-structure.js';
import { Router, type RouteTarget } from '../../src/core/routing/router.js';
import type { LimitCounters } from '../../src/counters/limit-counters.js';
import { createAdapterRegistry } from '../../src/providers/index.js';
import type { Clock } from '../../src/spec/clock.js';
import type { ApiKeyRecord } from '../../src/store/api-key-record.js';
import type { ApiKeyRepository } from '../../src/store/api-key-repository.js';
import { Catalog } from '../../src/store/catalog.js';
import type { KeyRecord } from '../../src/store/key-record.js';
import type { LedgerRow } from '../../src/store/usage-ledger-repository.js';

export interface EnforcerRig {
  enforcer: LimitEnforcer;
  apiKeys: ApiKeyService;
  target: RouteTarget;
  /** The ledger rows appended so far (unless a ledger of the caller's own was given). */
  rows: LedgerRow[];
}

/**
 * Builds the rig around `record` and `counters`; `ledger` replaces the row-keeping one (e.g. a counting one), and
 * `pricingStructure` answers the structures outcomes name (none by default).
 */
export async function startEnforcerRig(options: {
  record: ApiKeyRecord;
  counters: LimitCounters;
  clock: Clock;
  ledger?: LedgerWriter;
  pricingStructure?: (id: string) => PricingStructure | undefined;
}): Promise<EnforcerRig> {
  const { record, counters, clock } = options;
  const repository = { list: async () => [record], touch: async () => undefined } as unknown as ApiKeyRepository;
  const apiKeys = new ApiKeyService({ repository, counters, clock, rates: { diemUsd: 1, vcuUsd: 1 }, totalsSince: async () => new Map(), lastUsedFlushMs: 0 });
  await apiKeys.load();
  const catalog = new Catalog();
  catalog.replace([], [{ id: 'pk', provider: 'openai', enabled: true, models: [], blacklisted_models: [], customPricingStructureId: null } as unknown as KeyRecord]);
  const target = new Router(catalog, createAdapterRegistry(), clock).resolve('openai/gpt-4o-mini');
  const rows: LedgerRow[] = [];
  const enforcer = new LimitEnforcer({
    apiKeys,
    counters,
    catalog,
    prices: createPriceCatalog({ now: clock }),
    pricingStructure: options.pricingStructure ?? (() => undefined),
    ledger: options.ledger ?? ({ append: (row: LedgerRow) => void rows.push(row) } as unknown as LedgerWriter),
    clock,
    rates: { diemUsd: 1, vcuUsd: 1 },
    reservationTtlMs: 15 * 60_000,
    onError: (error) => {
      throw error;
    },
  });
  return { enforcer, apiKeys, target, rows };
}
