import { z } from 'zod';
import { envVarInputSchema, envVarOutputSchema } from './env-var.js';
import { storableText } from '../storable-text.js';

const deployments = z.record(z.string(), z.string());
/** Fields the gateway sets itself: accepted on input (so a GET body can be PUT back) and ignored. */
const gatewayManaged = z.union([z.string(), z.null()]).optional();

const azureInput = z
  .object({
    endpoint: envVarInputSchema.optional(),
    deployments: deployments.optional(),
    api_version: envVarInputSchema.optional(),
    client_id: envVarInputSchema.optional(),
    client_secret: envVarInputSchema.optional(),
    tenant_id: envVarInputSchema.optional(),
    scopes: z.array(z.string()).optional(),
    key2: envVarInputSchema.optional(),
  })
  .strict();

const vertexInput = z
  .object({
    project_id: envVarInputSchema.optional(),
    project_number: envVarInputSchema.optional(),
    region: envVarInputSchema.optional(),
    auth_credentials: envVarInputSchema.optional(),
    deployments: deployments.optional(),
  })
  .strict();

const batchS3Config = z
  .object({
    buckets: z.array(
      z.object({ bucket_name: z.string().min(1), prefix: z.string().optional(), is_default: z.boolean().optional() }).strict(),
    ),
  })
  .strict();

const bedrockInput = z
  .object({
    access_key: envVarInputSchema.optional(),
    secret_key: envVarInputSchema.optional(),
    session_token: envVarInputSchema.optional(),
    region: envVarInputSchema.optional(),
    arn: envVarInputSchema.optional(),
    deployments: deployments.optional(),
    batch_s3_config: batchS3Config.nullable().optional(),
  })
  .strict();

const urlInput = z.object({ url: envVarInputSchema }).strict();

/** The body of POST/PUT /api/providers/{provider}/keys[/{key_id}] (seed 002). Unknown fields are a 400. */
/** The largest weight a key may have (weights are relative: 1 and 3 split traffic as 1e5 and 3e5 do). */
export const MAX_KEY_WEIGHT = 1_000_000;

export const providerKeyInputSchema = z
  .object({
    id: storableText(z.string().min(1).max(200)).optional(),
    name: storableText(z.string().min(1).max(200)).optional(),
    value: envVarInputSchema.optional(),
    models: z.array(z.string().min(1)).nullable().optional(),
    blacklisted_models: z.array(z.string().min(1)).nullable().optional(),
    // Weights are relative; two at the top still add up to a finite total, so the draw between keys stays fair.
    weight: z.number().positive().max(MAX_KEY_WEIGHT).optional(),
    azure_key_config: azureInput.nullable().optional(),
    vertex_key_config: vertexInput.nullable().optional(),
    bedrock_key_config: bedrockInput.nullable().optional(),
    replicate_key_config: z.object({ deployments: deployments.optional() }).strict().nullable().optional(),
    vllm_key_config: z.object({ url: envVarInputSchema, model_name: z.string().optional() }).strict().nullable().optional(),
    ollama_key_config: urlInput.nullable().optional(),
    sgl_key_config: urlInput.nullable().optional(),
    enabled: z.boolean().optional(),
    use_for_batch_api: z.boolean().optional(),
    config_hash: gatewayManaged,
    status: gatewayManaged,
    description: z.string().max(2000).nullable().optional(),
    customPricingStructureId: z.string().min(1).nullable().optional(),
    created_at: gatewayManaged,
    updated_at: gatewayManaged,
  })
  .strict();
export type ProviderKeyInput = z.infer<typeof providerKeyInputSchema>;

const envOut = envVarOutputSchema;

/** The key object every key route answers with (seed 002, plus seed 000's customPricingStructureId). */
export const providerKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    value: envOut,
    models: z.array(z.string()),
    blacklisted_models: z.array(z.string()),
    weight: z.number(),
    azure_key_config: z
      .object({
        endpoint: envOut,
        deployments: deployments,
        api_version: envOut,
        client_id: envOut,
        client_secret: envOut,
        tenant_id: envOut,
        scopes: z.array(z.string()),
        key2: envOut,
      })
      .nullable(),
    vertex_key_config: z
      .object({ project_id: envOut, project_number: envOut, region: envOut, auth_credentials: envOut, deployments: deployments })
      .nullable(),
    bedrock_key_config: z
      .object({
        access_key: envOut,
        secret_key: envOut,
        session_token: envOut,
        region: envOut,
        arn: envOut,
        deployments: deployments,
        batch_s3_config: batchS3Config.nullable(),
      })
      .nullable(),
    replicate_key_config: z.object({ deployments: deployments }).nullable(),
    vllm_key_config: z.object({ url: envOut, model_name: z.string() }).nullable(),
    ollama_key_config: z.object({ url: envOut }).nullable(),
    sgl_key_config: z.object({ url: envOut }).nullable(),
    enabled: z.boolean(),
    use_for_batch_api: z.boolean(),
    config_hash: z.string(),
    status: z.string(),
    description: z.string(),
    customPricingStructureId: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'ProviderKey' });
export type ProviderKeyView = z.infer<typeof providerKeySchema>;

export const providerKeyListSchema = z.object({ keys: z.array(providerKeySchema), total: z.number() }).meta({ id: 'ProviderKeyList' });
