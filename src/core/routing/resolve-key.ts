import { errors } from '../../spec/errors.js';
import type { EnvironmentReader } from '../../spec/environment-reader.js';
import type { ResolvedKey } from '../../spec/provider.js';
import type { EnvVarValue } from '../../spec/schemas/env-var.js';
import type { KeyRecord } from '../../store/key-record.js';

/**
 * Resolves a key's env references at use time into the credentials an adapter signs with.
 * A reference to an unset variable is a clear error naming the variable (never its would-be value).
 */
export function resolveKey(record: KeyRecord, readEnvironment: EnvironmentReader): ResolvedKey {
  const read = (field: EnvVarValue | null | undefined, path: string): string | undefined => {
    if (!field) return undefined;
    if (field.kind === 'value') return field.value;
    const value = readEnvironment(field.name);
    if (value === undefined) {
      throw errors.unavailable(`Key "${record.name}" of provider "${record.provider}" references environment variable ${field.name} (${path}), which is not set`, {
        code: 'key_env_missing',
        provider: record.provider,
      });
    }
    return value;
  };
  const key: ResolvedKey = { id: record.id, name: record.name, provider: record.provider, value: read(record.value, 'value') ?? '' };
  const azure = record.azure_key_config;
  if (azure) {
    key.azure = {
      endpoint: read(azure.endpoint, 'azure_key_config.endpoint') ?? '',
      deployments: azure.deployments,
      scopes: azure.scopes,
      ...optional('apiVersion', read(azure.api_version, 'azure_key_config.api_version')),
      ...optional('clientId', read(azure.client_id, 'azure_key_config.client_id')),
      ...optional('clientSecret', read(azure.client_secret, 'azure_key_config.client_secret')),
      ...optional('tenantId', read(azure.tenant_id, 'azure_key_config.tenant_id')),
      ...optional('key2', read(azure.key2, 'azure_key_config.key2')),
    };
  }
  const vertex = record.vertex_key_config;
  if (vertex) {
    key.vertex = {
      projectId: read(vertex.project_id, 'vertex_key_config.project_id') ?? '',
      region: read(vertex.region, 'vertex_key_config.region') ?? '',
      authCredentials: read(vertex.auth_credentials, 'vertex_key_config.auth_credentials') ?? '',
      deployments: vertex.deployments,
      ...optional('projectNumber', read(vertex.project_number, 'vertex_key_config.project_number')),
    };
  }
  const bedrock = record.bedrock_key_config;
  if (bedrock) {
    key.bedrock = {
      region: read(bedrock.region, 'bedrock_key_config.region') ?? 'us-east-1',
      deployments: bedrock.deployments,
      ...optional('accessKey', read(bedrock.access_key, 'bedrock_key_config.access_key')),
      ...optional('secretKey', read(bedrock.secret_key, 'bedrock_key_config.secret_key')),
      ...optional('sessionToken', read(bedrock.session_token, 'bedrock_key_config.session_token')),
      ...optional('arn', read(bedrock.arn, 'bedrock_key_config.arn')),
    };
  }
  if (record.replicate_key_config) key.replicate = { deployments: record.replicate_key_config.deployments };
  if (record.vllm_key_config) {
    key.vllm = {
      url: read(record.vllm_key_config.url, 'vllm_key_config.url') ?? '',
      ...optional('modelName', record.vllm_key_config.model_name || undefined),
    };
  }
  if (record.ollama_key_config) key.ollama = { url: read(record.ollama_key_config.url, 'ollama_key_config.url') ?? '' };
  if (record.sgl_key_config) key.sgl = { url: read(record.sgl_key_config.url, 'sgl_key_config.url') ?? '' };
  return key;
}

function optional<K extends string>(name: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined || value === '' ? {} : { [name]: value }) as { [P in K]?: string };
}
