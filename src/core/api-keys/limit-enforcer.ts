import { randomBytes } from 'node:crypto';
import { isoTimestamp } from '../../spec/iso-timestamp.js';
import { timeOrderedId } from '../../spec/time-ordered-id.js';
import { errors } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { ChatCompletionRequest, EmbeddingRequest } from '../../spec/openai.js';
import type { TokenUsage } from '../../spec/usage.js';
import type { LimitCheck, LimitCounters, MaybePromise } from '../../counters/limit-counters.js';
import { MAX_AMOUNT } from '../../counters/nano-units.js';
import { hasMoneyLimit, type ApiKeyRecord } from '../../store/api-key-record.js';
import type { Catalog, CatalogSnapshot } from '../../store/catalog.js';
import type { LedgerRow } from '../../store/usage-ledger-repository.js';
import type { Principal } from '../auth/authenticator.js';
import type { MeteringOutcome, MeteringStart, MeteringTicket, UsageMeter } from '../inference/metering.js';
import { costOf, inputTokenUpperBound, maxOutputTokens, resolveModelPrice, worstCaseCost, type ModelPrice, type PriceCatalog, type PricingStructure } from '../pricing/index.js';
import { keyServes, type RouteTarget } from '../routing/router.js';
import type { ApiKeyService } from './api-key-service.js';
import { KeyBuckets } from './buckets.js';
import { limitRefusal } from './limit-refusal.js';
import type { LedgerWriter } from './ledger-writer.js';

export interface LimitEnforcerDependencies {
  apiKeys: ApiKeyService;
  counters: LimitCounters;
  catalog: Catalog;
  prices: PriceCatalog;
  pricingStructure: (id: string) => PricingStructure | undefined;
  ledger: LedgerWriter;
  clock: Clock;
  rates: { diemUsd: number; vcuUsd: number };
  /** How long an unsettled reservation holds (a process that died mid-request frees it after this). */
  reservationTtlMs: number;
  onError: (error: unknown, context: string) => void;
}

const maxMemoisedTargets = 10_000;

/**
 * Reservation ids: a random token of this process (72 bits, so that processes sharing Redis counters, and this
 * process after a restart, never meet each other's ids) and a sequence number. Request ids cannot serve: a client
 * may send its own, twice. A random id per request cost a draw and a long string held by the counters until
 * settlement; the request is named in its ledger row.
 */
const reservationToken = randomBytes(9).toString('base64url');
let reservationSequence = 0;

/** What one request reserved, kept until it settles. */
interface Reservation {
  id: string;
  buckets: { usd?: string; tokens?: string; requests?: string; rpm?: string; tpm?: string; concurrent?: string };
  /** The checks reserved; their expiries serve to charge the buckets directly if the reservation expired. */
  checks: LimitCheck[];
  /** Whether worstCost was reserved against a USD-valued limit (else the usd bucket only counts). */
  moneyReserved: boolean;
  worstCost: number;
  /** The input-token bound, the part of worstTokens that is input (the rest is output). */
  worstInput: number;
  worstTokens: number;
}

/**
 * What a version of a key's record implies for every one of its requests, worked out on its first request. Records
 * are replaced, never changed, when a key's limits, period or models change (see ApiKeyRecord), so a plan keyed
 * by the record object can never outlive the limits it was made from.
 */
interface KeyPlan {
  /** False for a key without any limit: its requests reserve nothing. */
  limited: boolean;
  needsMoney: boolean;
  /** Whether the key has any consumption limit, so that every unit of its window is counted. */
  counted: boolean;
  /** The tightest USD-valued cap, in USD (meaningful when needsMoney). */
  moneyCap: number;
  buckets: KeyBuckets;
}

/**
 * Enforces API-key limits without overspending: before dispatch it reserves the worst-case cost, tokens and
 * request against every limit of the key in one atomic counter operation; after the request (success, upstream
 * error, client abort, broken stream) it settles to the actual usage, never above what was reserved. Every
 * request also gets a ledger row, written in batches off the request path.
 */
/** What a request's settlement needs of its start. */
type SettledRequest = Pick<MeteringStart, 'requestId' | 'requestType' | 'targets'>;

export class LimitEnforcer implements UsageMeter {
  readonly #plans = new WeakMap<ApiKeyRecord, KeyPlan>();

  readonly #structureIds = new WeakMap<CatalogSnapshot, Map<string, readonly (string | null)[]>>();

  /** Settlements issued whose counter reply has not landed yet; each removes itself when it lands. */
  readonly #landing = new Set<Promise<void>>();

  constructor(private readonly dependencies: LimitEnforcerDependencies) {}

  async begin(start: MeteringStart): Promise<MeteringTicket> {
    const record = this.#permitted(start.principal, start.targets);
    // One moment for the request: its windows are chosen and its ledger row is dated by it.
    const began = this.dependencies.clock();
    const reservation = record ? await this.#reserve(record, start, began) : undefined;
    return this.#ticket({ requestId: start.requestId, requestType: start.requestType, targets: start.targets }, record, reservation, began);
  }

  /**
   * The ticket holds only what its settlement reads, not the request's body: a stream's ticket lives as long as the
   * stream, and the client's prompt (often the bulk of a request) has no use once it has gone upstream.
   */
  #ticket(request: SettledRequest, record: ApiKeyRecord | undefined, reservation: Reservation | undefined, began: number): MeteringTicket {
    let settled = false;
    return {
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        try {
          const landing = this.#settle(request, record, reservation, outcome, began);
          if (landing !== undefined) this.#track(landing);
        } catch (error) {
          this.dependencies.onError(error, 'settle');
        }
      },
    };
  }

  permit(principal: Principal, targets: RouteTarget[]): void {
    this.#permitted(principal, targets);
  }

  /** The API key behind `principal` once it may use `targets` (401, 403 otherwise); undefined for the admin key. */
  #permitted(principal: Principal, targets: RouteTarget[]): ApiKeyRecord | undefined {
    if (principal.kind !== 'api-key') return undefined;
    const record = this.dependencies.apiKeys.find(principal.id);
    if (!record) throw errors.unauthorized('Invalid credentials', { code: 'invalid_api_key' });
    this.#checkModels(record, targets);
    return record;
  }

  /** Waits for the settlements issued so far (not for later ones: under steady traffic some are always in flight). */
  async drain(): Promise<void> {
    await Promise.all(this.#landing);
  }

  /** Holds a settlement until it lands; a failure is reported, never thrown at the request that issued it. */
  #track(landing: Promise<void>): void {
    const tracked: Promise<void> = landing.then(
      () => {
        this.#landing.delete(tracked);
      },
      (error: unknown) => {
        this.#landing.delete(tracked);
        this.dependencies.onError(error, 'settle');
      },
    );
    this.#landing.add(tracked);
  }

  #checkModels(record: ApiKeyRecord, targets: RouteTarget[]): void {
    if (record.models.length === 0) return;
    for (const target of targets) {
      const canonical = `${target.provider.name}/${target.model}`;
      if (!record.models.includes(canonical) && !record.models.includes(target.requested) && !record.models.includes(target.model)) {
        throw errors.forbidden(`This API key may not use model "${target.requested}"`, { code: 'model_not_allowed', param: 'model', model: target.requested });
      }
    }
  }

  async #reserve(record: ApiKeyRecord, start: MeteringStart, now: number): Promise<Reservation | undefined> {
    const plan = this.#planFor(record);
    if (!plan.limited) return undefined;
    const body = start.body as unknown as ChatCompletionRequest | EmbeddingRequest;
    const limits = record.limits;
    const rate = record.rateLimits;

    const inputBound = inputTokenUpperBound(body) + (start.extraInputTokens ?? 0);
    let worstTokens = 0;
    let worstCost = 0;
    for (const target of start.targets) {
      const output = maxOutputTokens(target.provider.adapterType, target.model, body);
      worstTokens = Math.max(worstTokens, inputBound + output);
      if (plan.needsMoney) {
        for (const price of this.#prices(target)) worstCost = Math.max(worstCost, worstCaseCost(inputBound, output, price));
      }
    }
    const window = plan.buckets.window(now);
    const windowEnd = window.window.resetsAt === null ? undefined : window.window.resetsAt + 3_600_000;
    const minute = plan.buckets.minute(now);
    const minuteEnd = minute.resetsAt + 60_000;
    const checks: LimitCheck[] = [];
    const buckets: Reservation['buckets'] = {};
    // A key with any consumption limit has every unit of its window counted, the unlimited ones with a check that
    // always passes and holds nothing: the window's spend is then complete (a limit added later starts from the
    // true spend) and equals what a restart rebuilds from the ledger, which sums every unit.
    if (plan.needsMoney || plan.counted) {
      buckets.usd = window.usd;
      checks.push(plan.needsMoney ? limitCheck(window.usd, plan.moneyCap, worstCost, windowEnd) : limitCheck(window.usd, MAX_AMOUNT, 0, windowEnd));
    }
    if (limits.tokens !== undefined || plan.counted) {
      buckets.tokens = window.tokens;
      checks.push(limits.tokens !== undefined ? limitCheck(window.tokens, limits.tokens, worstTokens, windowEnd) : limitCheck(window.tokens, MAX_AMOUNT, 0, windowEnd));
    }
    if (limits.requests !== undefined || plan.counted) {
      buckets.requests = window.requests;
      checks.push(limits.requests !== undefined ? limitCheck(window.requests, limits.requests, 1, windowEnd) : limitCheck(window.requests, MAX_AMOUNT, 0, windowEnd));
    }
    if (rate.rpm !== undefined) {
      buckets.rpm = minute.rpm;
      checks.push(limitCheck(minute.rpm, rate.rpm, 1, minuteEnd));
    }
    if (rate.tpm !== undefined) {
      buckets.tpm = minute.tpm;
      checks.push(limitCheck(minute.tpm, rate.tpm, worstTokens, minuteEnd));
    }
    if (rate.maxConcurrent !== undefined) {
      buckets.concurrent = plan.buckets.concurrency;
      checks.push(limitCheck(plan.buckets.concurrency, rate.maxConcurrent, 1, undefined));
    }
    const reservation: Reservation = { id: `${reservationToken}.${(reservationSequence += 1).toString(36)}`, buckets, checks, moneyReserved: plan.needsMoney, worstCost, worstInput: inputBound, worstTokens };

    const answer = this.dependencies.counters.reserve({ reservationId: reservation.id, checks, ttlMs: this.dependencies.reservationTtlMs });
    const result = answer instanceof Promise ? await answer : answer;
    if (result.ok) return reservation;
    const failed = Object.entries(reservation.buckets).find(([, bucket]) => bucket === result.failedBucket)?.[0] ?? 'usd';
    throw limitRefusal({
      limits: record.limits,
      failed,
      state: result,
      resetsAt: window.window.resetsAt,
      minuteResetsAt: minute.resetsAt,
      worstCost: reservation.worstCost,
      worstTokens: reservation.worstTokens,
      rates: this.dependencies.rates,
      now: this.dependencies.clock(),
    });
  }

  /** The plan of a record version, made on its first request. */
  #planFor(record: ApiKeyRecord): KeyPlan {
    let plan = this.#plans.get(record);
    if (plan === undefined) {
      const limits = record.limits;
      const rate = record.rateLimits;
      const needsTokens = limits.tokens !== undefined || rate.tpm !== undefined;
      const needsMoney = hasMoneyLimit(limits);
      plan = {
        limited: needsTokens || needsMoney || limits.requests !== undefined || rate.rpm !== undefined || rate.maxConcurrent !== undefined,
        needsMoney,
        counted: Object.keys(limits).length > 0,
        moneyCap: needsMoney ? this.#moneyCap(record) : Number.POSITIVE_INFINITY,
        buckets: new KeyBuckets(record),
      };
      this.#plans.set(record, plan);
    }
    return plan;
  }

  /**
   * The pricing structures (null: the catalog's prices) of the keys that may serve a target, per catalog version:
   * with many provider keys, filtering them on every request cost more than the rest of the reservation.
   */
  #structuresFor(target: RouteTarget): readonly (string | null)[] {
    const snapshot = this.dependencies.catalog.snapshot;
    let byTarget = this.#structureIds.get(snapshot);
    if (byTarget === undefined) {
      byTarget = new Map();
      this.#structureIds.set(snapshot, byTarget);
    }
    const cacheKey = `${target.provider.name}\n${target.model}`;
    let structures = byTarget.get(cacheKey);
    if (structures === undefined) {
      const keys = (snapshot.keysByProvider.get(target.provider.name) ?? []).filter((key) => keyServes(key, target.model, target.provider.adapterType));
      const ids = new Set(keys.map((key) => key.customPricingStructureId));
      if (ids.size === 0) ids.add(null);
      structures = [...ids];
      // Model names come from clients; a bounded memo cannot grow without end.
      if (byTarget.size >= maxMemoisedTargets) byTarget.clear();
      byTarget.set(cacheKey, structures);
    }
    return structures;
  }

  /** Every price the request could be charged at: each target's eligible keys may carry their own structure. */
  #prices(target: RouteTarget): ModelPrice[] {
    const prices: ModelPrice[] = [];
    for (const id of this.#structuresFor(target)) {
      const structure = id === null ? undefined : this.dependencies.pricingStructure(id);
      const price = resolveModelPrice(this.dependencies.prices, { provider: target.provider.adapterType, model: target.model, structure });
      if (!price) {
        throw errors.badRequest(
          `The model "${target.requested}" has no known price, and this API key has a spending limit. Add it to a pricing structure assigned to the provider key, or use a key without a USD limit.`,
          { code: 'model_price_unknown', param: 'model', provider: target.provider.name, model: target.requested },
        );
      }
      prices.push(price);
    }
    return prices;
  }

  /**
   * The tightest of the USD-valued caps, in USD. A diem or VCU limit worth more USD than the counters hold is no
   * cap in practice, and the counters would refuse it: it counts as their largest amount.
   */
  #moneyCap(record: ApiKeyRecord): number {
    const { diemUsd, vcuUsd } = this.dependencies.rates;
    const caps = [record.limits.usd, record.limits.diem === undefined ? undefined : record.limits.diem * diemUsd, record.limits.vcu === undefined ? undefined : record.limits.vcu * vcuUsd];
    return Math.min(MAX_AMOUNT, ...caps.filter((cap): cap is number => cap !== undefined));
  }

  /**
   * Prices the outcome and, for a reserved request, issues the counters' settlement before returning; returns
   * what is still to land (undefined when nothing was reserved or the counters settled at once, the ledger row then
   * appended at once). Issued now, before the answer leaves: on Redis the command is then on the connection ahead of
   * anything this process asks the counters afterwards, and Redis answers one connection in order.
   */
  #settle(request: SettledRequest, record: ApiKeyRecord | undefined, reservation: Reservation | undefined, outcome: MeteringOutcome, began: number): Promise<void> | undefined {
    const served = outcome.served;
    const usage: TokenUsage = outcome.usage ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    let cost = 0;
    let usageMissing = false;
    if (served) {
      if (outcome.usage) {
        const structure = served.pricingStructureId ? this.dependencies.pricingStructure(served.pricingStructureId) : undefined;
        const price = resolveModelPrice(this.dependencies.prices, { provider: served.target.provider.adapterType, model: served.target.model, structure });
        cost = price ? costOf(outcome.usage, price) : 0;
      } else {
        // No usage from the upstream: charge what was reserved, and flag it in the ledger.
        usageMissing = true;
        cost = reservation?.worstCost ?? 0;
      }
    }
    // The counters refuse an amount beyond their largest, and a refused settlement would leave the reservation held.
    // Counts (at most a few 1e9) and rates (at most 1 USD a token) keep a cost far below it; the cap makes it certain.
    if (cost > MAX_AMOUNT) cost = MAX_AMOUNT;
    let tokens = outcome.usage ? usage.inputTokens + usage.outputTokens : usageMissing ? (reservation?.worstTokens ?? 0) : 0;
    if (reservation) {
      // A settlement above the reservation would break the promise; the bounds make it impossible, the cap makes it certain.
      // Only a reserved amount caps: a key without a USD-valued limit reserved no cost (worstCost 0), and capping
      // there would record every request of a requests-, tokens- or rate-limited key in the ledger as free.
      if (reservation.moneyReserved) cost = Math.min(cost, reservation.worstCost);
      tokens = Math.min(tokens, reservation.worstTokens);
    }
    const charged = usageMissing && reservation ? { input: Math.min(reservation.worstInput, tokens), output: Math.max(0, tokens - reservation.worstInput) } : undefined;
    const target = served?.target ?? request.targets[0]!;
    const row: LedgerRow = {
      // Time-ordered, so that the ledger's primary key grows at its end (cheaper inserts than random ids).
      id: timeOrderedId(began),
      request_id: request.requestId,
      api_key_id: record?.id ?? 'bootstrap',
      provider: target.provider.name,
      model: target.model,
      provider_key_id: served?.keyId ?? null,
      request_type: request.requestType,
      status: outcome.status,
      stream: outcome.stream ? 1 : 0,
      // Without reported usage the row records the tokens charged (the reservation's), flagged usage_missing, so
      // that counters rebuilt from the ledger after a restart hold what was charged before it.
      input_tokens: charged ? charged.input : usage.inputTokens,
      output_tokens: charged ? charged.output : usage.outputTokens,
      cached_tokens: usage.cachedInputTokens,
      cache_write_tokens: usage.cacheWriteTokens ?? 0,
      cost_usd: cost,
      usage_missing: usageMissing ? 1 : 0,
      error_code: outcome.errorCode ?? null,
      latency_ms: Math.max(0, Math.round(outcome.latencyMs ?? this.dependencies.clock() - began)),
      // Dated by when the request began, the moment its windows were chosen, so a request that ends after a window
      // reset is rebuilt after a restart into the window it was charged to, not the next one.
      created_at: isoTimestamp(began),
    };
    if (reservation === undefined) {
      this.dependencies.ledger.append(row);
      return undefined;
    }
    const actual = actualAmounts(reservation.buckets, cost, tokens);
    const settlement = this.dependencies.counters.settle(reservation.id, actual);
    // Counters of this process alone answer at once: the row is appended now, and there is nothing left to land.
    if (!(settlement instanceof Promise) && settlement.settled) {
      this.dependencies.ledger.append(row);
      return undefined;
    }
    return this.#charge(reservation, actual, row, settlement);
  }

  /**
   * Finishes a settlement that the counters answer later, or that found its reservation expired and given back (the
   * actual amounts are then added instead), then appends the row: a row in the ledger means its request is counted.
   * The row is appended even when the counters fail, so that the ledger still records what the request cost.
   */
  async #charge(reservation: Reservation, actual: Record<string, number>, row: LedgerRow, settlement: MaybePromise<{ settled: boolean }>): Promise<void> {
    try {
      const { settled } = await settlement;
      if (settled) return;
      // The request outlived its reservation, which expired and was given back: the usage must still be counted.
      for (const check of reservation.checks) {
        const amount = actual[check.bucket] ?? 0;
        if (amount > 0) await this.dependencies.counters.add(check.bucket, amount, check.expiresAt);
      }
    } finally {
      this.dependencies.ledger.append(row);
    }
  }
}

/** What each reserved bucket is charged: the request's cost and tokens, one request, and no concurrency left held. */
function actualAmounts(buckets: Reservation['buckets'], cost: number, tokens: number): Record<string, number> {
  const actual: Record<string, number> = {};
  if (buckets.usd) actual[buckets.usd] = cost;
  if (buckets.tokens) actual[buckets.tokens] = tokens;
  if (buckets.requests) actual[buckets.requests] = 1;
  if (buckets.rpm) actual[buckets.rpm] = 1;
  if (buckets.tpm) actual[buckets.tpm] = tokens;
  if (buckets.concurrent) actual[buckets.concurrent] = 0;
  return actual;
}

/** One check of a reservation, always of the same shape. */
function limitCheck(bucket: string, limit: number, amount: number, expiresAt: number | undefined): LimitCheck {
  return { bucket, limit, amount, expiresAt };
}
