import type { Generated } from 'kysely';

/** Key-value settings (the admin key's hash, the change revision). */
export interface SettingTable {
  name: string;
  value: string;
}

/** Stored provider settings; built-in providers without a row use their defaults. */
export interface ProviderTable {
  name: string;
  /** 1 for custom providers, 0 for built-ins with changed settings. */
  custom: number;
  /** JSON: network_config, concurrency_and_buffer_size, custom_provider_config. */
  settings: string;
  config_hash: string;
  created_at: string;
  updated_at: string;
}

/** A provider key. Non-secret fields are JSON in `document`; secrets are one AES-GCM blob in `secrets`. */
export interface ProviderKeyTable {
  id: string;
  provider: string;
  name: string;
  document: string;
  secrets: string;
  config_hash: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface PricingStructureTable {
  id: string;
  name: string;
  /** JSON array of entries. */
  entries: string;
  created_at: string;
  updated_at: string;
}

/** A client API key; only the SHA-256 of its secret is stored. */
export interface ApiKeyTable {
  id: string;
  secret_hash: string;
  last6: string;
  type: string;
  description: string;
  /** JSON {usd?, diem?, vcu?, tokens?, requests?}. */
  consumption_limits: string;
  limit_period: string;
  /** When the current limit period was chosen: windows start counting afresh from a period change. */
  period_since: string;
  expires_at: string | null;
  /** JSON array of allowed models (empty = all). */
  models: string;
  /** JSON {rpm?, tpm?, maxConcurrent?}. */
  rate_limits: string;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

/** One row per metered request (its serving attempt), written in batches off the request path. */
export interface UsageLedgerTable {
  id: string;
  request_id: string;
  /** The API key's id, or "bootstrap" for the admin key. */
  api_key_id: string;
  provider: string;
  model: string;
  provider_key_id: string | null;
  request_type: string;
  status: number;
  /** 1 for streamed requests. */
  stream: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  /** Prompt tokens written to the provider's cache; part of input_tokens. */
  cache_write_tokens: number;
  cost_usd: number;
  /** 1 when the upstream reported no usage and the reservation was charged. */
  usage_missing: number;
  error_code: string | null;
  latency_ms: number;
  /** ISO 8601 UTC with milliseconds: sorts in time order as text. */
  created_at: string;
}

export interface DatabaseSchema {
  settings: SettingTable;
  providers: ProviderTable;
  provider_keys: ProviderKeyTable;
  pricing_structures: PricingStructureTable;
  api_keys: ApiKeyTable;
  usage_ledger: UsageLedgerTable;
}

export type { Generated };
