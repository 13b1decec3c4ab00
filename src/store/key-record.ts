import type { EnvVarValue } from '../spec/schemas/env-var.js';

/** A provider key as Tollgate holds it in memory: wire field names, env fields normalised, secrets in clear. */
export interface KeyRecord {
  id: string;
  provider: string;
  name: string;
  value: EnvVarValue | null;
  models: string[];
  blacklisted_models: string[];
  weight: number;
  azure_key_config: {
    endpoint: EnvVarValue | null;
    deployments: Record<string, string>;
    api_version: EnvVarValue | null;
    client_id: EnvVarValue | null;
    client_secret: EnvVarValue | null;
    tenant_id: EnvVarValue | null;
    scopes: string[];
    key2: EnvVarValue | null;
  } | null;
  vertex_key_config: {
    project_id: EnvVarValue | null;
    project_number: EnvVarValue | null;
    region: EnvVarValue | null;
    auth_credentials: EnvVarValue | null;
    deployments: Record<string, string>;
  } | null;
  bedrock_key_config: {
    access_key: EnvVarValue | null;
    secret_key: EnvVarValue | null;
    session_token: EnvVarValue | null;
    region: EnvVarValue | null;
    arn: EnvVarValue | null;
    deployments: Record<string, string>;
    batch_s3_config: { buckets: Array<{ bucket_name: string; prefix?: string; is_default?: boolean }> } | null;
  } | null;
  replicate_key_config: { deployments: Record<string, string> } | null;
  vllm_key_config: { url: EnvVarValue | null; model_name: string } | null;
  ollama_key_config: { url: EnvVarValue | null } | null;
  sgl_key_config: { url: EnvVarValue | null } | null;
  enabled: boolean;
  use_for_batch_api: boolean;
  description: string;
  customPricingStructureId: string | null;
  config_hash: string;
  status: string;
  created_at: string;
  updated_at: string;
}

/** The credential fields: encrypted at rest and redacted in every response. */
export const secretPaths = [
  ['value'],
  ['azure_key_config', 'client_secret'],
  ['azure_key_config', 'key2'],
  ['vertex_key_config', 'auth_credentials'],
  ['bedrock_key_config', 'access_key'],
  ['bedrock_key_config', 'secret_key'],
  ['bedrock_key_config', 'session_token'],
] as const;

type Holder = Record<string, unknown>;

function read(record: Holder, path: readonly string[]): unknown {
  let current: unknown = record;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Holder)[part];
  }
  return current;
}

function write(record: Holder, path: readonly string[], value: unknown): void {
  let current: Holder = record;
  for (const part of path.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== 'object') return;
    current = next as Holder;
  }
  current[path[path.length - 1]!] = value;
}

/**
 * Splits a record into a document safe to store in clear (literal secrets replaced by a marker) and the
 * map of literal secrets (path → value) that goes into the encrypted blob. Env references stay in the document.
 */
export function splitSecrets(record: KeyRecord): { document: Holder; secrets: Record<string, string> } {
  const document = structuredClone(record) as unknown as Holder;
  const secrets: Record<string, string> = {};
  for (const path of secretPaths) {
    const field = read(document, path) as EnvVarValue | null | undefined;
    if (field && field.kind === 'value') {
      secrets[path.join('.')] = field.value;
      write(document, path, { kind: 'secret' });
    }
  }
  return { document, secrets };
}

/** The inverse of splitSecrets. */
export function joinSecrets(document: Holder, secrets: Record<string, string>): KeyRecord {
  const record = structuredClone(document);
  for (const path of secretPaths) {
    const field = read(record, path) as { kind: string } | null | undefined;
    if (field && field.kind === 'secret') {
      write(record, path, { kind: 'value', value: secrets[path.join('.')] ?? '' });
    }
  }
  return record as unknown as KeyRecord;
}

/** Every env variable a key references, for status reporting and use-time errors. */
export function envReferences(record: KeyRecord): string[] {
  const names: string[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    const field = value as { kind?: unknown; name?: unknown };
    if (field.kind === 'env' && typeof field.name === 'string') {
      names.push(field.name);
      return;
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(record);
  return names;
}
