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

export interface DatabaseSchema {
  settings: SettingTable;
  providers: ProviderTable;
  provider_keys: ProviderKeyTable;
  pricing_structures: PricingStructureTable;
}

export type { Generated };
