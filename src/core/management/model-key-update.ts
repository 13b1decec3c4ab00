import { errors } from '../../spec/errors.js';
import { parseEnvVar, type EnvVarValue } from '../../spec/schemas/env-var.js';
import type { ModelKeyUpdateInput, ModelKeyUpdateResponse } from '../../spec/schemas/model-key-update.js';
import type { KeyRecord } from '../../store/key-record.js';
import { validateCredentials } from './key-rules.js';
import type { KeyService } from './key-service.js';
import type { ProviderService } from './provider-service.js';
import { looksRedacted, redactSecret } from './redaction.js';

/**
 * Seed 000's `PUT /v1/models`: updates a provider key by id. Absent fields keep their stored values;
 * `meta.key2` is Azure's secondary key, `meta.secretAccessKey` / `meta.sessionToken` are Bedrock's.
 */
export async function updateKeyFromModelsRoute(
  input: ModelKeyUpdateInput,
  services: { keys: KeyService; providers: ProviderService; pricingStructureExists: (id: string) => boolean; now: string },
): Promise<ModelKeyUpdateResponse> {
  const existing = services.keys.findById(input.id);
  if (!existing) throw errors.notFound(`Key "${input.id}" not found`, { code: 'key_not_found', param: 'id' });
  const record: KeyRecord = structuredClone(existing);
  const secret = (text: string, stored: EnvVarValue | null, param: string): EnvVarValue | null => {
    if (looksRedacted(text)) {
      if (stored?.kind === 'value' && redactSecret(stored.value) === text) return stored;
      throw errors.badRequest(`${param} looks redacted but does not match the stored secret`, { param });
    }
    const parsed = parseEnvVar(text);
    if ('error' in parsed) throw errors.badRequest(`${param}: ${parsed.error}`, { param });
    return parsed.kind === 'value' && parsed.value === '' ? null : parsed;
  };

  if (input.name !== undefined) record.name = input.name;
  if (input.value !== undefined) record.value = secret(input.value, existing.value, 'value');
  if (input.models !== undefined) record.models = input.models;
  if (input.enabled !== undefined) record.enabled = input.enabled;
  if (input.customPricingStructureId !== undefined) {
    if (input.customPricingStructureId !== null && !services.pricingStructureExists(input.customPricingStructureId)) {
      throw errors.badRequest(`Pricing structure "${input.customPricingStructureId}" does not exist`, {
        param: 'customPricingStructureId',
        code: 'pricing_structure_not_found',
      });
    }
    record.customPricingStructureId = input.customPricingStructureId;
  }
  const meta = input.meta ?? {};
  const provider = services.providers.require(record.provider);
  if (meta.key2 !== undefined) {
    if (provider.adapterType !== 'azure') {
      throw errors.badRequest('meta.key2 applies to Azure keys only', { param: 'meta.key2' });
    }
    record.azure_key_config ??= emptyAzure();
    record.azure_key_config.key2 = secret(meta.key2, existing.azure_key_config?.key2 ?? null, 'meta.key2');
  }
  for (const [field, target] of [
    ['secretAccessKey', 'secret_key'],
    ['sessionToken', 'session_token'],
  ] as const) {
    const sent = meta[field];
    if (sent === undefined) continue;
    if (provider.adapterType !== 'bedrock') {
      throw errors.badRequest(`meta.${field} applies to Bedrock keys only`, { param: `meta.${field}` });
    }
    record.bedrock_key_config ??= emptyBedrock();
    record.bedrock_key_config[target] = secret(sent, existing.bedrock_key_config?.[target] ?? null, `meta.${field}`);
  }
  validateCredentials(record, provider.adapterType);
  record.status = '';
  record.updated_at = services.now;
  await services.keys.store(record);
  return { data: toSeedView(record) };
}

function toSeedView(record: KeyRecord): ModelKeyUpdateResponse['data'] {
  const shown = (field: EnvVarValue | null | undefined): string | undefined => {
    if (!field) return undefined;
    return field.kind === 'env' ? `env.${field.name}` : redactSecret(field.value);
  };
  const meta: { key2?: string; secretAccessKey?: string; sessionToken?: string } = {};
  const key2 = shown(record.azure_key_config?.key2);
  const secretAccessKey = shown(record.bedrock_key_config?.secret_key);
  const sessionToken = shown(record.bedrock_key_config?.session_token);
  if (key2 !== undefined) meta.key2 = key2;
  if (secretAccessKey !== undefined) meta.secretAccessKey = secretAccessKey;
  if (sessionToken !== undefined) meta.sessionToken = sessionToken;
  return {
    id: record.id,
    name: record.name,
    value: shown(record.value) ?? '',
    providerId: record.provider,
    enabled: record.enabled,
    createdAt: record.created_at,
    updatedAt: record.updated_at,
    meta: Object.keys(meta).length > 0 ? meta : null,
    customPricingStructureId: record.customPricingStructureId,
    models: record.models.map((model) => ({ id: model, label: model, name: model, provider: record.provider, config: null })),
  };
}

function emptyAzure(): NonNullable<KeyRecord['azure_key_config']> {
  return { endpoint: null, deployments: {}, api_version: null, client_id: null, client_secret: null, tenant_id: null, scopes: [], key2: null };
}

function emptyBedrock(): NonNullable<KeyRecord['bedrock_key_config']> {
  return { access_key: null, secret_key: null, session_token: null, region: null, arn: null, deployments: {}, batch_s3_config: null };
}
