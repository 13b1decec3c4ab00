import { z } from 'zod';
import { storableText } from '../storable-text.js';

/**
 * The highest rate, in USD per million tokens: a dollar a token, far above any model's price. A higher one lets a
 * request's cost pass what the limit counters hold, and then overflow to Infinity, which no report can write as JSON.
 */
export const MAX_RATE_PER_MILLION = 1_000_000;

/** USD per million tokens; zod numbers are finite already. */
const rate = z.number().nonnegative().max(MAX_RATE_PER_MILLION);

/** Ids appear in URL paths and in provider keys' `customPricingStructureId`. */
const structureId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'must be 1-200 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');

/** Fields the gateway sets itself: accepted (and ignored) so that a fetched body can be sent back. */
const gatewayManaged = z.union([z.string(), z.null()]).optional();

/** One entry as clients send it. */
export const pricingStructureEntryInputSchema = z
  .object({
    /** Glob over the model name as sent upstream; `*` is the only wildcard. */
    model: z.string().trim().min(1).max(300),
    input_per_million: rate,
    output_per_million: rate,
    /** The input rate applies to cached prompt tokens when absent or null. */
    cached_input_per_million: rate.nullable().optional(),
    /** Prompt tokens written to a cache (Anthropic-style); the input rate applies when absent or null. */
    cache_write_per_million: rate.nullable().optional(),
    /** Cache writes kept for the longer lifetime (Anthropic's one hour); the cache-write rate applies when absent or null. */
    cache_write_long_per_million: rate.nullable().optional(),
  })
  .strict();

/**
 * The body of POST /api/pricing-structures and PUT /api/pricing-structures/{id}. `id` is generated on POST when
 * omitted and must match the path on PUT. An entry repeating an earlier entry's glob could never match (the first
 * match wins), so it is refused as a likely mistake.
 */
export const pricingStructureInputSchema = z
  .object({
    id: structureId.optional(),
    name: storableText(z.string().trim().min(1).max(200)),
    entries: z.array(pricingStructureEntryInputSchema).max(1000),
    created_at: gatewayManaged,
    updated_at: gatewayManaged,
  })
  .strict()
  .superRefine((input, context) => {
    const seen = new Map<string, number>();
    input.entries.forEach((entry, index) => {
      // Matching ignores case, so globs differing only in case are the same glob.
      const glob = entry.model.toLowerCase();
      const earlier = seen.get(glob);
      if (earlier !== undefined) {
        context.addIssue({
          code: 'custom',
          path: ['entries', index, 'model'],
          message: `repeats the glob of entry ${earlier}, which always matches first`,
        });
      } else {
        seen.set(glob, index);
      }
    });
  });
export type PricingStructureInput = z.infer<typeof pricingStructureInputSchema>;

export const pricingStructureEntrySchema = z.object({
  model: z.string(),
  input_per_million: z.number(),
  output_per_million: z.number(),
  cached_input_per_million: z.number().nullable(),
  cache_write_per_million: z.number().nullable(),
  cache_write_long_per_million: z.number().nullable(),
});
export type PricingStructureEntryView = z.infer<typeof pricingStructureEntrySchema>;

/** A pricing structure as every pricing-structure route answers it. */
export const pricingStructureSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    entries: z.array(pricingStructureEntrySchema),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'PricingStructure' });
export type PricingStructureView = z.infer<typeof pricingStructureSchema>;

export const pricingStructureListSchema = z
  .object({ pricing_structures: z.array(pricingStructureSchema), total: z.number() })
  .meta({ id: 'PricingStructureList' });
