import type { Clock } from '../../spec/clock.js';
import type { LimitCounters } from '../../counters/limit-counters.js';
import type { ApiKeyRecord } from '../../store/api-key-record.js';
import type { UsageLedgerRepository } from '../../store/usage-ledger-repository.js';
import { usageBucket } from './buckets.js';
import { limitWindow } from './limit-window.js';

/**
 * In-memory counters start empty; the ledger knows every settled request, so the current windows' spend is
 * summed from it at start. (Redis counters outlive the process and are not rebuilt, or spend would count twice.)
 */
export async function rebuildCountersFromLedger(
  keys: ApiKeyRecord[],
  ledger: UsageLedgerRepository,
  counters: LimitCounters,
  clock: Clock,
): Promise<number> {
  const limited = keys.filter((key) => Object.keys(key.limits).length > 0);
  if (limited.length === 0) return 0;
  const now = clock();
  const windows = new Map(limited.map((key) => [key.id, limitWindow(key.period, key.periodSince, now)]));
  const totals = await ledger.totalsSince(
    limited.map((key) => key.id),
    (id) => new Date(windows.get(id)!.start).toISOString(),
  );
  let restored = 0;
  for (const key of limited) {
    const window = windows.get(key.id)!;
    const total = totals.get(key.id);
    if (!total || total.requests === 0) continue;
    const expiresAt = window.resetsAt === null ? undefined : window.resetsAt + 3_600_000;
    await counters.add(usageBucket(key.id, window, 'usd'), total.costUsd, expiresAt);
    await counters.add(usageBucket(key.id, window, 'tokens'), total.inputTokens + total.outputTokens, expiresAt);
    await counters.add(usageBucket(key.id, window, 'requests'), total.requests, expiresAt);
    restored += 1;
  }
  return restored;
}
