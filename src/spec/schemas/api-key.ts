import { z } from 'zod';
import { MAX_LIMIT_AMOUNT } from '../limit-amount.js';
import { storableText } from '../storable-text.js';

export const apiKeyTypes = ['ADMIN', 'INFERENCE'] as const;
export const limitPeriods = ['EPOCH', 'MONTH', 'LIFETIME'] as const;
export type ApiKeyType = (typeof apiKeyTypes)[number];
export type LimitPeriod = (typeof limitPeriods)[number];

// A limit above what the limit counters hold would make every request of the key fail there.
const amount = z.number().nonnegative().max(MAX_LIMIT_AMOUNT).nullable().optional();
const count = z.number().int().nonnegative().max(MAX_LIMIT_AMOUNT).nullable().optional();
const rate = z.number().int().positive().max(MAX_LIMIT_AMOUNT).nullable().optional();

/** Seed 001's `consumptionLimit` plus the `tokens` and `requests` extensions; null removes a limit. */
export const consumptionLimitInputSchema = z
  .object({ usd: amount, diem: amount, vcu: amount, tokens: count, requests: count })
  .strict();

export const rateLimitsInputSchema = z
  .object({
    rpm: rate,
    tpm: rate,
    maxConcurrent: rate,
  })
  .strict();

/** The latest expiry a key may have: a later one would be shown as an extended year (`+010000-…`) it could not be sent back as. */
const LATEST_EXPIRY = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * `expiresAt`: an ISO time; "" or null removes the expiry. Its instant must fall in years 1970 to 9999 UTC: an offset
 * can move a date at either end beyond them, and a key's expiry is shown back in UTC.
 */
const expiresAtInput = z
  .union([
    z.iso.datetime({ offset: true }).refine((text) => {
      const instant = Date.parse(text);
      return instant >= 0 && instant <= LATEST_EXPIRY;
    }, 'must fall between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z'),
    z.literal(''),
    z.null(),
  ])
  .optional();

/** The fields a key is created with and a PATCH may change, each optional. */
const settableApiKeyFields = {
  description: storableText(z.string().max(1000)).optional(),
  consumptionLimit: consumptionLimitInputSchema.nullable().optional(),
  limitPeriod: z.enum(limitPeriods).optional(),
  expiresAt: expiresAtInput,
  models: z.array(z.string().min(1)).optional(),
  rateLimits: rateLimitsInputSchema.nullable().optional(),
};

/** The body of `POST /api/v1/api_keys`. */
export const createApiKeyInputSchema = z.object({ apiKeyType: z.enum(apiKeyTypes), ...settableApiKeyFields }).strict();
export type CreateApiKeyInput = z.infer<typeof createApiKeyInputSchema>;

/** The body of `PATCH /api/v1/api_keys` (seed 001, plus the extensions). Absent fields keep their values. */
export const updateApiKeyInputSchema = z.object({ id: z.string().min(1), ...settableApiKeyFields }).strict();
export type UpdateApiKeyInput = z.infer<typeof updateApiKeyInputSchema>;

const units = z.object({ usd: z.number(), diem: z.number(), vcu: z.number(), tokens: z.number(), requests: z.number() });
const partialUnits = units.partial();

export const apiKeyUsageSchema = z.object({
  window: z.object({
    start: z.string(),
    resetsAt: z.string().nullable(),
    spent: units,
    reserved: units,
    remaining: partialUnits,
  }),
  trailingSevenDays: units,
});
export type ApiKeyUsage = z.infer<typeof apiKeyUsageSchema>;

export const consumptionLimitsSchema = z.object({
  usd: z.number().nullable(),
  diem: z.number().nullable(),
  vcu: z.number().nullable(),
  tokens: z.number().nullable().optional(),
  requests: z.number().nullable().optional(),
});

/** An API key as every route shows it (seed 001's fields, then the extensions). Never the secret. */
export const apiKeySchema = z
  .object({
    apiKeyType: z.enum(apiKeyTypes),
    consumptionLimits: consumptionLimitsSchema,
    limitPeriod: z.enum(limitPeriods),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    id: z.string(),
    last6Chars: z.string(),
    lastUsedAt: z.string().nullable(),
    description: z.string(),
    models: z.array(z.string()),
    rateLimits: z.object({ rpm: z.number().nullable(), tpm: z.number().nullable(), maxConcurrent: z.number().nullable() }),
    usage: apiKeyUsageSchema,
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof apiKeySchema>;

/** The creation answer: the key plus its secret, shown this once. */
export const createdApiKeySchema = apiKeySchema.extend({ apiKey: z.string() }).meta({ id: 'CreatedApiKey' });

export const envelope = <T extends z.ZodType>(data: T) => z.object({ data, success: z.literal(true) });
