import { z } from 'zod';
import { storableText } from '../storable-text.js';

/** The body of `PUT /v1/models` (seed 000): update a provider key by id; absent fields keep their values. */
export const modelKeyUpdateInputSchema = z
  .object({
    id: z.string().min(1),
    /** The same rule as POST /api/providers/{provider}/keys: the store's name column holds 200 characters. */
    name: storableText(z.string().min(1).max(200)).optional(),
    value: z.string().optional(),
    models: z.array(z.string().min(1)).optional(),
    meta: z
      .object({
        key2: z.string().optional(),
        secretAccessKey: z.string().optional(),
        sessionToken: z.string().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    enabled: z.boolean().optional(),
    customPricingStructureId: z.string().min(1).nullable().optional(),
  })
  .strict();
export type ModelKeyUpdateInput = z.infer<typeof modelKeyUpdateInputSchema>;

/** Seed 000's response envelope. */
export const modelKeyUpdateResponseSchema = z
  .object({
    data: z.object({
      id: z.string(),
      name: z.string(),
      value: z.string(),
      providerId: z.string(),
      enabled: z.boolean(),
      createdAt: z.string(),
      updatedAt: z.string(),
      meta: z
        .object({ key2: z.string().optional(), secretAccessKey: z.string().optional(), sessionToken: z.string().optional() })
        .nullable(),
      customPricingStructureId: z.string().nullable(),
      models: z.array(
        z.object({ id: z.string(), label: z.string(), name: z.string(), provider: z.string(), config: z.null() }),
      ),
    }),
  })
  .meta({ id: 'ModelKeyUpdateResponse' });
export type ModelKeyUpdateResponse = z.infer<typeof modelKeyUpdateResponseSchema>;
