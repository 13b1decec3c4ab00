/**
 * Provider and key records as the store holds them, for unit tests of what is derived from the catalog (routing,
 * the model list): every field present, only what a test is about given.
 */
import type { ProviderAdapter } from '../../src/spec/provider.js';
import type { KeyRecord } from '../../src/store/key-record.js';
import type { ProviderRecord } from '../../src/store/provider-repository.js';

/** Adapters known only by their catalogs of model names: routing and the model list read nothing else of them. */
export function catalogOnlyAdapters(knownModels: Record<string, string[]>): Map<string, ProviderAdapter> {
  return new Map(Object.entries(knownModels).map(([type, models]) => [type, { knownModels: models } as unknown as ProviderAdapter]));
}

/** A custom provider on a built-in base type, created on 2026-11-01. */
export function customProviderRecord(name: string, baseType: string, keyless: boolean): ProviderRecord {
  return {
    name,
    custom: true,
    settings: { custom_provider_config: { base_provider_type: baseType, is_key_less: keyless } },
    config_hash: '',
    created_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
  };
}

/** An enabled key with a literal value and no filters, created on 2026-11-02, with `fields` over it. */
export function keyRecord(provider: string, id: string, fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    provider,
    name: id,
    value: { kind: 'value', value: `sk-${id}` },
    models: [],
    blacklisted_models: [],
    weight: 1,
    azure_key_config: null,
    vertex_key_config: null,
    bedrock_key_config: null,
    replicate_key_config: null,
    vllm_key_config: null,
    ollama_key_config: null,
    sgl_key_config: null,
    enabled: true,
    use_for_batch_api: false,
    description: '',
    customPricingStructureId: null,
    config_hash: '',
    status: '',
    created_at: '2026-11-02T00:00:00.000Z',
    updated_at: '2026-11-02T00:00:00.000Z',
    ...fields,
  };
}
