import type { ApiKeyType, LimitPeriod } from '../spec/schemas/api-key.js';

/** Consumption limits; absent means unlimited for that unit. USD-valued units are caps on the USD spend. */
export interface ConsumptionLimits {
  usd?: number;
  diem?: number;
  vcu?: number;
  tokens?: number;
  requests?: number;
}

export interface RateLimits {
  rpm?: number;
  tpm?: number;
  maxConcurrent?: number;
}

/**
 * An API key as held in memory (no secret, only its hash). A change to a key replaces its record with a new
 * object and never changes one in place (only `lastUsedAt` is written as requests arrive): the limit enforcer
 * keeps what it derives from a key's limits, period and buckets per record object, so an in-place change to
 * them would go unseen. The fields it derives from are readonly to keep it so.
 */
export interface ApiKeyRecord {
  readonly id: string;
  secretHash: string;
  last6: string;
  type: ApiKeyType;
  description: string;
  readonly limits: Readonly<ConsumptionLimits>;
  readonly period: LimitPeriod;
  /** ms: when the current period was chosen; windows count from here at the earliest. */
  readonly periodSince: number;
  /** ms, or null for no expiry. */
  expiresAt: number | null;
  models: string[];
  readonly rateLimits: Readonly<RateLimits>;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
}

/** True when the key has any limit priced in USD (usd, diem or vcu). */
export function hasMoneyLimit(limits: ConsumptionLimits): boolean {
  return limits.usd !== undefined || limits.diem !== undefined || limits.vcu !== undefined;
}
