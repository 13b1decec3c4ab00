import { describe, expect, it } from 'vitest';
import { Catalog } from '../../store/catalog.js';
import type { KeyRecord } from '../../store/key-record.js';
import type { ProviderRecord } from '../../store/provider-repository.js';
import { listModels } from './model-list.js';
import { catalogOnlyAdapters, customProviderRecord as customProvider, keyRecord as key } from '../../../test/support/catalog-records.js';

const adapters = catalogOnlyAdapters({ openai: ['gpt-4o', 'gpt-4o-mini'], vllm: [] });

function snapshotOf(providers: ProviderRecord[], keys: KeyRecord[]) {
  const catalog = new Catalog();
  catalog.replace(providers, keys);
  return catalog.snapshot;
}

describe('listModels', () => {
  it("lists a keyless provider's base type catalog as provider/model, dated by the provider's creation", () => {
    const models = listModels(snapshotOf([customProvider('local', 'openai', true)], []), adapters);
    expect(models).toEqual([
      { id: 'local/gpt-4o', object: 'model', created: Date.parse('2026-11-01T00:00:00.000Z') / 1000, owned_by: 'local' },
      { id: 'local/gpt-4o-mini', object: 'model', created: Date.parse('2026-11-01T00:00:00.000Z') / 1000, owned_by: 'local' },
    ]);
  });

  it('lists keyless and keyed providers side by side', () => {
    const snapshot = snapshotOf([customProvider('local', 'openai', true)], [key('openai', 'only-mini', { models: ['gpt-4o-mini'] })]);
    expect(listModels(snapshot, adapters).map((model) => model.id)).toEqual(['openai/gpt-4o-mini', 'local/gpt-4o', 'local/gpt-4o-mini']);
  });

  it("applies an API key's models restriction to a keyless provider's models", () => {
    const snapshot = snapshotOf([customProvider('local', 'openai', true)], [key('openai', 'any')]);
    const allowed = (id: string) => id === 'local/gpt-4o';
    expect(listModels(snapshot, adapters, allowed).map((model) => model.id)).toEqual(['local/gpt-4o']);
  });

  it('lists nothing for a keyless provider whose base type has no catalog, nor for a custom provider without keys', () => {
    const snapshot = snapshotOf([customProvider('lab', 'vllm', true), customProvider('proxy', 'openai', false)], [key('proxy', 'off', { enabled: false })]);
    expect(listModels(snapshot, adapters)).toEqual([]);
  });
});
