import { randomBytes, randomUUID } from 'node:crypto';
import { errors } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { ApiKeyUsage, ApiKeyView, CreateApiKeyInput, UpdateApiKeyInput } from '../../spec/schemas/api-key.js';
import type { ApiKeyRecord, ConsumptionLimits, RateLimits } from '../../store/api-key-record.js';
import type { ApiKeyRepository } from '../../store/api-key-repository.js';
import type { UsageTotals } from '../../store/usage-ledger-repository.js';
import type { LimitCounters } from '../../counters/limit-counters.js';
import { credentialDigest, type CredentialVerifier, type Principal } from '../auth/authenticator.js';
import { usageBucket } from './buckets.js';
import { limitWindow } from './limit-window.js';

/** The prefix that makes Tollgate API keys recognisable (e.g. to secret scanners). */
export const apiKeyPrefix = 'tg_';

export interface ApiKeyServiceDependencies {
  repository: ApiKeyRepository;
  counters: LimitCounters;
  clock: Clock;
  /** USD per diem and per VCU. */
  rates: { diemUsd: number; vcuUsd: number };
  /** Ledger totals per key since a moment (trailing seven days). Management path only. */
  totalsSince: (ids: string[], since: (id: string) => string) => Promise<Map<string, UsageTotals>>;
  /**
   * Writes the ledger rows still buffered, so that `totalsSince` sees every settled request; used when a key gains
   * its first consumption limit (management path only).
   */
  flushLedger?: () => Promise<void>;
  /** Flushes last-used times this often (ms); 0 disables the timer (tests flush by hand). */
  lastUsedFlushMs?: number;
  /** Called after every committed change, so other processes reload. */
  changed?: () => Promise<void>;
}

/**
 * Client API keys: creation (the secret shown once, only its hash kept), changes, deletion, and the in-memory
 * index by hash through which every request is authenticated without a database read.
 */
export class ApiKeyService implements CredentialVerifier {
  readonly #byId = new Map<string, ApiKeyRecord>();
  readonly #byHash = new Map<string, ApiKeyRecord>();
  readonly #pendingLastUsed = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly dependencies: ApiKeyServiceDependencies) {
    const interval = dependencies.lastUsedFlushMs ?? 1000;
    if (interval > 0) {
      this.#timer = setInterval(() => void this.flushLastUsed().catch(() => undefined), interval);
      this.#timer.unref();
    }
  }

  async load(): Promise<void> {
    const records = await this.dependencies.repository.list();
    this.#byId.clear();
    this.#byHash.clear();
    for (const record of records) this.#index(record);
  }

  /**
   * Recognises a Tollgate API key by its hash; an expired key is a 401 that echoes no part of it. `digest` is the
   * credential's hash when the caller has it already (the authenticator does); the index is consulted on every
   * call, so a deleted or expired key is refused from its next request on.
   */
  verify(credential: string, digest?: string): Principal | undefined {
    if (!credential.startsWith(apiKeyPrefix)) return undefined;
    const record = this.#byHash.get(digest ?? hashSecret(credential));
    if (!record) return undefined;
    const now = this.dependencies.clock();
    if (record.expiresAt !== null && record.expiresAt <= now) {
      throw errors.unauthorized('This API key has expired', { code: 'api_key_expired' });
    }
    this.#pendingLastUsed.set(record.id, now);
    record.lastUsedAt = now;
    return { kind: 'api-key', id: record.id, admin: record.type === 'ADMIN' };
  }

  /** The current record of a key (limits as changed most recently). */
  find(id: string): ApiKeyRecord | undefined {
    return this.#byId.get(id);
  }

  require(id: string): ApiKeyRecord {
    const record = this.#byId.get(id);
    if (!record) throw errors.notFound(`API key "${id}" not found`, { code: 'api_key_not_found', param: 'id' });
    return record;
  }

  async list(): Promise<ApiKeyView[]> {
    return this.#views([...this.#byId.values()]);
  }

  async get(id: string): Promise<ApiKeyView> {
    return (await this.#views([this.require(id)]))[0]!;
  }

  async create(input: CreateApiKeyInput): Promise<ApiKeyView & { apiKey: string }> {
    const now = this.dependencies.clock();
    const secret = `${apiKeyPrefix}${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyRecord = {
      id: randomUUID(),
      secretHash: hashSecret(secret),
      last6: secret.slice(-6),
      type: input.apiKeyType,
      description: input.description ?? '',
      limits: mergeLimits({}, input.consumptionLimit),
      period: input.limitPeriod ?? 'EPOCH',
      periodSince: now,
      expiresAt: parseExpiry(input.expiresAt, null),
      models: input.models ?? [],
      rateLimits: mergeRateLimits({}, input.rateLimits),
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
    };
    await this.dependencies.repository.insert(record);
    this.#index(record);
    await this.dependencies.changed?.();
    return { ...(await this.get(record.id)), apiKey: secret };
  }

  /** Seed 001's PATCH: absent fields keep their values; the amount keeps the window's spend, a new period starts afresh. */
  async update(input: UpdateApiKeyInput): Promise<ApiKeyView> {
    const current = this.require(input.id);
    const now = this.dependencies.clock();
    const period = input.limitPeriod ?? current.period;
    const next: ApiKeyRecord = {
      ...current,
      description: input.description ?? current.description,
      limits: input.consumptionLimit === undefined ? current.limits : mergeLimits(current.limits, input.consumptionLimit),
      models: input.models ?? current.models,
      rateLimits: input.rateLimits === undefined ? current.rateLimits : mergeRateLimits(current.rateLimits, input.rateLimits),
      expiresAt: parseExpiry(input.expiresAt, current.expiresAt),
      updatedAt: now,
      period,
      periodSince: period === current.period ? current.periodSince : now,
    };
    await this.dependencies.repository.update(next);
    // Before the new limits apply: requests of the old, unlimited version are not counted in the window.
    if (Object.keys(current.limits).length === 0 && Object.keys(next.limits).length > 0) await this.#catchUpWindow(next);
    this.#index(next);
    await this.dependencies.changed?.();
    return this.get(next.id);
  }

  /**
   * A key without consumption limits has its spend only in the ledger, not in the counters. When it gains a limit,
   * its current window's counters are brought up to what the ledger holds for the window, as a restart would
   * rebuild them: the limit then applies to the window's true spend, the same before and after a restart. The
   * counters may already hold part of it (the key had limits earlier in the window), so only the difference is
   * added. Requests still in flight from before the change settle uncounted, as they would have.
   */
  async #catchUpWindow(record: ApiKeyRecord): Promise<void> {
    const now = this.dependencies.clock();
    const window = limitWindow(record.period, record.periodSince, now);
    await this.dependencies.flushLedger?.();
    const totals = (await this.dependencies.totalsSince([record.id], () => new Date(window.start).toISOString())).get(record.id);
    if (!totals || totals.requests === 0) return;
    const expiresAt = window.resetsAt === null ? undefined : window.resetsAt + 3_600_000;
    const ledgerSpend = { usd: totals.costUsd, tokens: totals.inputTokens + totals.outputTokens, requests: totals.requests };
    const units = ['usd', 'tokens', 'requests'] as const;
    const buckets = units.map((unit) => usageBucket(record.id, window, unit));
    const counted = await this.dependencies.counters.read(buckets);
    for (const [index, unit] of units.entries()) {
      const missing = ledgerSpend[unit] - (counted[index]?.spent ?? 0);
      if (missing > 0) await this.dependencies.counters.add(buckets[index]!, missing, expiresAt);
    }
  }

  async delete(id: string): Promise<ApiKeyView> {
    const view = await this.get(id);
    await this.dependencies.repository.delete(id);
    const record = this.#byId.get(id);
    this.#byId.delete(id);
    if (record) this.#byHash.delete(record.secretHash);
    this.#pendingLastUsed.delete(id);
    await this.dependencies.changed?.();
    return view;
  }

  /** Writes the last-used times gathered since the previous flush. */
  async flushLastUsed(): Promise<void> {
    if (this.#pendingLastUsed.size === 0) return;
    const entries = [...this.#pendingLastUsed].map(([id, lastUsedAt]) => ({ id, lastUsedAt }));
    this.#pendingLastUsed.clear();
    await this.dependencies.repository.touch(entries);
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flushLastUsed();
  }

  /** Every key's current usage; for the views and the rate-limits route. */
  async usage(record: ApiKeyRecord, trailing?: UsageTotals): Promise<ApiKeyUsage> {
    const now = this.dependencies.clock();
    const window = limitWindow(record.period, record.periodSince, now);
    const [usd, tokens, requests] = await this.dependencies.counters.read([
      usageBucket(record.id, window, 'usd'),
      usageBucket(record.id, window, 'tokens'),
      usageBucket(record.id, window, 'requests'),
    ]);
    const { diemUsd, vcuUsd } = this.dependencies.rates;
    const units = (money: number, tokenCount: number, requestCount: number) => ({
      usd: money,
      diem: money / diemUsd,
      vcu: money / vcuUsd,
      tokens: tokenCount,
      requests: requestCount,
    });
    const spent = units(usd!.spent, tokens!.spent, requests!.spent);
    const reserved = units(usd!.reserved, tokens!.reserved, requests!.reserved);
    const remaining: ApiKeyUsage['window']['remaining'] = {};
    for (const unit of ['usd', 'diem', 'vcu', 'tokens', 'requests'] as const) {
      const limit = record.limits[unit];
      if (limit !== undefined) remaining[unit] = Math.max(0, limit - spent[unit] - reserved[unit]);
    }
    const totals = trailing ?? { costUsd: 0, inputTokens: 0, outputTokens: 0, requests: 0 };
    return {
      window: {
        start: new Date(window.start).toISOString(),
        resetsAt: window.resetsAt === null ? null : new Date(window.resetsAt).toISOString(),
        spent,
        reserved,
        remaining,
      },
      trailingSevenDays: units(totals.costUsd, totals.inputTokens + totals.outputTokens, totals.requests),
    };
  }

  async #views(records: ApiKeyRecord[]): Promise<ApiKeyView[]> {
    const since = new Date(this.dependencies.clock() - 7 * 86_400_000).toISOString();
    const trailing = await this.dependencies.totalsSince(records.map((record) => record.id), () => since);
    return Promise.all(records.map(async (record) => toView(record, await this.usage(record, trailing.get(record.id)))));
  }

  #index(record: ApiKeyRecord): void {
    const previous = this.#byId.get(record.id);
    if (previous) this.#byHash.delete(previous.secretHash);
    this.#byId.set(record.id, record);
    this.#byHash.set(record.secretHash, record);
  }
}

/** The SHA-256 (hex) under which a secret is stored and looked up. */
export function hashSecret(secret: string): string {
  return credentialDigest(secret);
}

function toView(record: ApiKeyRecord, usage: ApiKeyUsage): ApiKeyView {
  const limits = record.limits;
  return {
    apiKeyType: record.type,
    consumptionLimits: {
      usd: limits.usd ?? null,
      diem: limits.diem ?? null,
      vcu: limits.vcu ?? null,
      ...(limits.tokens !== undefined ? { tokens: limits.tokens } : {}),
      ...(limits.requests !== undefined ? { requests: limits.requests } : {}),
    },
    limitPeriod: record.period,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    id: record.id,
    last6Chars: record.last6,
    lastUsedAt: record.lastUsedAt === null ? null : new Date(record.lastUsedAt).toISOString(),
    description: record.description,
    models: record.models,
    rateLimits: {
      rpm: record.rateLimits.rpm ?? null,
      tpm: record.rateLimits.tpm ?? null,
      maxConcurrent: record.rateLimits.maxConcurrent ?? null,
    },
    usage,
  };
}

function mergeLimits(current: ConsumptionLimits, input: Record<string, number | null | undefined> | null | undefined): ConsumptionLimits {
  if (input === null) return {};
  const next: ConsumptionLimits = { ...current };
  for (const unit of ['usd', 'diem', 'vcu', 'tokens', 'requests'] as const) {
    const value = input?.[unit];
    if (value === null) delete next[unit];
    else if (value !== undefined) next[unit] = value;
  }
  return next;
}

function mergeRateLimits(current: RateLimits, input: Record<string, number | null | undefined> | null | undefined): RateLimits {
  if (input === null) return {};
  const next: RateLimits = { ...current };
  for (const name of ['rpm', 'tpm', 'maxConcurrent'] as const) {
    const value = input?.[name];
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  return next;
}

/** `expiresAt`: undefined keeps, "" or null removes, a time sets (a past time expires the key at once). */
function parseExpiry(input: string | null | undefined, current: number | null): number | null {
  if (input === undefined) return current;
  if (input === null || input === '') return null;
  return Date.parse(input);
}
