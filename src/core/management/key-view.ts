import type { ProviderKeyView } from '../../spec/schemas/provider-key.js';
import type { EnvironmentReader } from '../../spec/environment-reader.js';
import { envReferences, type KeyRecord } from '../../store/key-record.js';
import { envVarView } from './redaction.js';

/**
 * A key's status: a failure recorded by the gateway (e.g. the upstream rejected it), a missing environment
 * variable it references, or "active" / "disabled".
 */
export function keyStatus(record: KeyRecord, readEnvironment: EnvironmentReader): string {
  const missing = envReferences(record).filter((name) => readEnvironment(name) === undefined);
  if (missing.length > 0) {
    return `error: environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set`;
  }
  if (record.status) return record.status;
  return record.enabled ? 'active' : 'disabled';
}

/** The wire form of a key (seed 002): every field present, secrets redacted, env references unresolved. */
export function toKeyView(record: KeyRecord, readEnvironment: EnvironmentReader): ProviderKeyView {
  const azure = record.azure_key_config;
  const vertex = record.vertex_key_config;
  const bedrock = record.bedrock_key_config;
  return {
    id: record.id,
    name: record.name,
    value: envVarView(record.value, true),
    models: record.models,
    blacklisted_models: record.blacklisted_models,
    weight: record.weight,
    azure_key_config: azure
      ? {
          endpoint: envVarView(azure.endpoint, false),
          deployments: azure.deployments,
          api_version: envVarView(azure.api_version, false),
          client_id: envVarView(azure.client_id, false),
          client_secret: envVarView(azure.client_secret, true),
          tenant_id: envVarView(azure.tenant_id, false),
          scopes: azure.scopes,
          key2: envVarView(azure.key2, true),
        }
      : null,
    vertex_key_config: vertex
      ? {
          project_id: envVarView(vertex.project_id, false),
          project_number: envVarView(vertex.project_number, false),
          region: envVarView(vertex.region, false),
          auth_credentials: envVarView(vertex.auth_credentials, true),
          deployments: vertex.deployments,
        }
      : null,
    bedrock_key_config: bedrock
      ? {
          access_key: envVarView(bedrock.access_key, true),
          secret_key: envVarView(bedrock.secret_key, true),
          session_token: envVarView(bedrock.session_token, true),
          region: envVarView(bedrock.region, false),
          arn: envVarView(bedrock.arn, false),
          deployments: bedrock.deployments,
          batch_s3_config: bedrock.batch_s3_config,
        }
      : null,
    replicate_key_config: record.replicate_key_config,
    vllm_key_config: record.vllm_key_config
      ? { url: envVarView(record.vllm_key_config.url, false), model_name: record.vllm_key_config.model_name }
      : null,
    ollama_key_config: record.ollama_key_config ? { url: envVarView(record.ollama_key_config.url, false) } : null,
    sgl_key_config: record.sgl_key_config ? { url: envVarView(record.sgl_key_config.url, false) } : null,
    enabled: record.enabled,
    use_for_batch_api: record.use_for_batch_api,
    config_hash: record.config_hash,
    status: keyStatus(record, readEnvironment),
    description: record.description,
    customPricingStructureId: record.customPricingStructureId,
    created_at: record.created_at,
    updated_at: record.updated_at,
  };
}
