import { keyCredentialProblem } from '../../providers/vertex/google-credential.js';
import { errors } from '../../spec/errors.js';
import { parseEnvVar, type EnvVarInput, type EnvVarValue } from '../../spec/schemas/env-var.js';
import type { ProviderKeyInput } from '../../spec/schemas/provider-key.js';
import type { KeyRecord } from '../../store/key-record.js';
import { looksRedacted, redactSecret } from './redaction.js';
import type { EffectiveProvider } from './provider-settings.js';

/** Adapter types whose keys may carry their credentials in a sub-config instead of `value`. */
const configCredentialTypes = new Set(['azure', 'bedrock', 'vertex', 'vllm', 'ollama', 'sgl']);

export interface KeyBuildContext {
  provider: EffectiveProvider;
  /** The stored key, on update: redacted secrets sent back keep its values. */
  existing: KeyRecord | undefined;
  id: string;
  now: string;
  pricingStructureExists: (id: string) => boolean;
}

/**
 * Turns a validated create/replace body into a key record, enforcing seed 002's rules. A PUT replaces the
 * key with what it sends; a secret sent back redacted keeps the stored secret.
 */
export function buildKeyRecord(input: ProviderKeyInput, context: KeyBuildContext): KeyRecord {
  const { provider, existing } = context;
  if (provider.keyless) {
    throw errors.badRequest(`Provider "${provider.name}" is keyless: keys cannot be created on keyless providers`, {
      code: 'keyless_provider',
    });
  }
  const field = (input: EnvVarInput | undefined, path: string, secret: boolean): EnvVarValue | null => {
    if (input === undefined) return null;
    const parsed = parseEnvVar(input);
    if ('error' in parsed) throw errors.badRequest(`${path}: ${parsed.error}`, { param: path });
    if (parsed.kind === 'value' && secret && looksRedacted(parsed.value)) {
      const stored = readSecret(existing, path);
      if (stored !== undefined && redactSecret(stored) === parsed.value) return { kind: 'value', value: stored };
      throw errors.badRequest(`${path} looks redacted but does not match the stored secret; send the full secret or the value a GET returned`, {
        param: path,
      });
    }
    if (parsed.kind === 'value' && parsed.value === '') return null;
    return parsed;
  };

  const type = provider.adapterType;
  const azure = input.azure_key_config
    ? {
        endpoint: field(input.azure_key_config.endpoint, 'azure_key_config.endpoint', false),
        deployments: input.azure_key_config.deployments ?? {},
        api_version: field(input.azure_key_config.api_version, 'azure_key_config.api_version', false),
        client_id: field(input.azure_key_config.client_id, 'azure_key_config.client_id', false),
        client_secret: field(input.azure_key_config.client_secret, 'azure_key_config.client_secret', true),
        tenant_id: field(input.azure_key_config.tenant_id, 'azure_key_config.tenant_id', false),
        scopes: input.azure_key_config.scopes ?? [],
        key2: field(input.azure_key_config.key2, 'azure_key_config.key2', true),
      }
    : null;
  const vertex = input.vertex_key_config
    ? {
        project_id: field(input.vertex_key_config.project_id, 'vertex_key_config.project_id', false),
        project_number: field(input.vertex_key_config.project_number, 'vertex_key_config.project_number', false),
        region: field(input.vertex_key_config.region, 'vertex_key_config.region', false),
        auth_credentials: field(input.vertex_key_config.auth_credentials, 'vertex_key_config.auth_credentials', true),
        deployments: input.vertex_key_config.deployments ?? {},
      }
    : null;
  const bedrock = input.bedrock_key_config
    ? {
        access_key: field(input.bedrock_key_config.access_key, 'bedrock_key_config.access_key', true),
        secret_key: field(input.bedrock_key_config.secret_key, 'bedrock_key_config.secret_key', true),
        session_token: field(input.bedrock_key_config.session_token, 'bedrock_key_config.session_token', true),
        region: field(input.bedrock_key_config.region, 'bedrock_key_config.region', false),
        arn: field(input.bedrock_key_config.arn, 'bedrock_key_config.arn', false),
        deployments: input.bedrock_key_config.deployments ?? {},
        batch_s3_config: input.bedrock_key_config.batch_s3_config ?? null,
      }
    : null;
  const url = (config: { url: EnvVarInput } | null | undefined, path: string) =>
    config ? { url: field(config.url, path, false) } : null;

  const record: KeyRecord = {
    id: context.id,
    provider: provider.name,
    name: input.name ?? existing?.name ?? `key-${context.id.slice(0, 8)}`,
    value: field(input.value, 'value', true),
    models: input.models ?? [],
    blacklisted_models: input.blacklisted_models ?? [],
    weight: input.weight ?? 1,
    azure_key_config: azure,
    vertex_key_config: vertex,
    bedrock_key_config: bedrock,
    replicate_key_config: input.replicate_key_config ? { deployments: input.replicate_key_config.deployments ?? {} } : null,
    vllm_key_config: input.vllm_key_config
      ? { url: field(input.vllm_key_config.url, 'vllm_key_config.url', false), model_name: input.vllm_key_config.model_name ?? '' }
      : null,
    ollama_key_config: url(input.ollama_key_config, 'ollama_key_config.url'),
    sgl_key_config: url(input.sgl_key_config, 'sgl_key_config.url'),
    enabled: input.enabled ?? true,
    use_for_batch_api: input.use_for_batch_api ?? false,
    description: input.description ?? '',
    customPricingStructureId: input.customPricingStructureId ?? null,
    config_hash: existing?.config_hash ?? '',
    status: existing?.status ?? '',
    created_at: existing?.created_at ?? context.now,
    updated_at: context.now,
  };
  validateCredentials(record, type);
  if (record.customPricingStructureId !== null && !context.pricingStructureExists(record.customPricingStructureId)) {
    throw errors.badRequest(`Pricing structure "${record.customPricingStructureId}" does not exist`, {
      param: 'customPricingStructureId',
      code: 'pricing_structure_not_found',
    });
  }
  return record;
}

/** Seed 002's credential rules, per adapter type. */
export function validateCredentials(record: KeyRecord, type: string): void {
  const requireUrl = (config: { url: EnvVarValue | null } | null, name: string) => {
    if (!config?.url) throw errors.badRequest(`${name}.url is required for ${type} keys`, { param: `${name}.url` });
  };
  if (type === 'vllm') requireUrl(record.vllm_key_config, 'vllm_key_config');
  if (type === 'ollama') requireUrl(record.ollama_key_config, 'ollama_key_config');
  if (type === 'sgl') requireUrl(record.sgl_key_config, 'sgl_key_config');
  if (type === 'azure' && !record.azure_key_config?.endpoint) {
    throw errors.badRequest('azure_key_config.endpoint is required for azure keys', { param: 'azure_key_config.endpoint' });
  }
  if (type === 'vertex') {
    if (!record.vertex_key_config?.project_id) {
      throw errors.badRequest('vertex_key_config.project_id is required for vertex keys', { param: 'vertex_key_config.project_id' });
    }
    if (!record.vertex_key_config.region) {
      throw errors.badRequest('vertex_key_config.region is required for vertex keys', { param: 'vertex_key_config.region' });
    }
    // The Google credentials a key carries written out (an env reference is read only when used): a type the adapter
    // would refuse at the first request is refused now. The value is the fallback place of the same JSON.
    const credentials = record.vertex_key_config.auth_credentials;
    for (const [field, param] of [[credentials, 'vertex_key_config.auth_credentials'], [credentials ? null : record.value, 'value']] as const) {
      const problem = field?.kind === 'value' ? keyCredentialProblem(field.value) : undefined;
      if (problem !== undefined) throw errors.badRequest(`${param} ${problem}`, { param });
    }
  }
  if (type === 'bedrock' && record.bedrock_key_config) {
    const { access_key: access, secret_key: secret } = record.bedrock_key_config;
    if ((access === null) !== (secret === null)) {
      throw errors.badRequest('bedrock_key_config needs both access_key and secret_key, or neither', {
        param: access === null ? 'bedrock_key_config.access_key' : 'bedrock_key_config.secret_key',
      });
    }
  }
  if (record.value !== null) return;
  if (!configCredentialTypes.has(type)) {
    throw errors.badRequest('value is required and must not be empty', { param: 'value' });
  }
  if (type === 'azure') {
    const azure = record.azure_key_config;
    // Without a value, the key authenticates with Entra ID: an application's client credentials, or the identity of the
    // Azure host Tollgate runs on, which holds no secret Tollgate could store: the workload or managed identity its
    // client id names, or, with no client id, the host's default one (the environment's AZURE_CLIENT_ID, else the
    // host's system-assigned identity). A secret alone names nothing.
    if (azure?.client_secret && !azure.client_id) {
      throw errors.badRequest(
        "azure_key_config.client_secret needs client_id and tenant_id (an Entra application's credentials); a key with no value, client_id or client_secret acts as the host's own Azure identity",
        { param: 'azure_key_config.client_id' },
      );
    }
    if (azure?.client_secret && !azure.tenant_id) {
      throw errors.badRequest('azure_key_config.client_secret needs tenant_id', { param: 'azure_key_config.tenant_id' });
    }
  }
  // A Vertex key with neither a service-account JSON nor a value acts as the host's own Google identity (its
  // GOOGLE_APPLICATION_CREDENTIALS file, or the metadata server's service account), which Tollgate does not store.
  // A Bedrock key with neither an API key nor access keys signs with the host's own credentials (its role), which
  // hold no secret Tollgate could store.
}

function readSecret(record: KeyRecord | undefined, path: string): string | undefined {
  if (!record) return undefined;
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  const field = current as EnvVarValue | null | undefined;
  return field && field.kind === 'value' ? field.value : undefined;
}
