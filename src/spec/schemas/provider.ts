import { z } from 'zod';

const nonNegativeInteger = z.number().int().nonnegative();

/** `network_config` as clients send it (every field optional). */
export const networkConfigInputSchema = z
  .object({
    base_url: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]).nullable().optional(),
    extra_headers: z.record(z.string(), z.string()).nullable().optional(),
    default_request_timeout_in_seconds: z.number().positive().max(3600).optional(),
    max_retries: nonNegativeInteger.max(10).optional(),
    retry_backoff_initial: nonNegativeInteger.max(600_000).optional(),
    retry_backoff_max: nonNegativeInteger.max(600_000).optional(),
  })
  .strict();

export const concurrencyInputSchema = z
  .object({
    concurrency: z.number().int().positive().max(100_000).optional(),
    buffer_size: nonNegativeInteger.max(1_000_000).optional(),
  })
  .strict();

export const customProviderConfigSchema = z
  .object({
    base_provider_type: z.string().min(1),
    is_key_less: z.boolean().optional(),
  })
  .strict();

const providerSettingsShape = {
  network_config: networkConfigInputSchema.nullable().optional(),
  concurrency_and_buffer_size: concurrencyInputSchema.nullable().optional(),
  custom_provider_config: customProviderConfigSchema.nullable().optional(),
};

/** The body of POST /api/providers: a new custom provider. */
export const createProviderInputSchema = z
  .object({
    provider: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be lowercase letters, digits, "-", "_" or ".", starting with a letter or digit'),
    ...providerSettingsShape,
  })
  .strict();
export type CreateProviderInput = z.infer<typeof createProviderInputSchema>;

/** The body of PUT /api/providers/{provider}. A body fetched by GET may be sent back as is. */
export const updateProviderInputSchema = z
  .object({
    name: z.string().optional(),
    provider: z.string().optional(),
    built_in: z.boolean().optional(),
    key_count: z.number().optional(),
    created_at: z.union([z.string(), z.null()]).optional(),
    updated_at: z.union([z.string(), z.null()]).optional(),
    ...providerSettingsShape,
  })
  .strict();
export type UpdateProviderInput = z.infer<typeof updateProviderInputSchema>;

export const networkConfigSchema = z.object({
  base_url: z.string(),
  extra_headers: z.record(z.string(), z.string()),
  default_request_timeout_in_seconds: z.number(),
  max_retries: z.number(),
  retry_backoff_initial: z.number(),
  retry_backoff_max: z.number(),
});
export type NetworkConfig = z.infer<typeof networkConfigSchema>;

/** A provider as every provider route answers it. */
export const providerSchema = z
  .object({
    name: z.string(),
    built_in: z.boolean(),
    network_config: networkConfigSchema,
    concurrency_and_buffer_size: z.object({ concurrency: z.number(), buffer_size: z.number() }),
    custom_provider_config: z.object({ base_provider_type: z.string(), is_key_less: z.boolean() }).nullable(),
    key_count: z.number(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'Provider' });
export type ProviderView = z.infer<typeof providerSchema>;

export const providerListSchema = z.object({ providers: z.array(providerSchema), total: z.number() }).meta({ id: 'ProviderList' });

/** The built-in providers, present from the start with default settings. */
export const builtInProviderNames = [
  'openai', 'anthropic', 'azure', 'bedrock', 'vertex', 'gemini', 'mistral', 'groq', 'cohere', 'deepseek',
  'together', 'openrouter', 'xai', 'fireworks', 'perplexity', 'cerebras', 'replicate', 'ollama', 'vllm', 'sgl',
] as const;

/** Default network settings of every provider. */
export const defaultNetworkConfig: NetworkConfig = {
  base_url: '',
  extra_headers: {},
  default_request_timeout_in_seconds: 60,
  max_retries: 2,
  retry_backoff_initial: 500,
  retry_backoff_max: 5000,
};

export const defaultConcurrency = { concurrency: 1000, buffer_size: 5000 };
