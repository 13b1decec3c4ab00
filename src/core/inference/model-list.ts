import type { ModelObject } from '../../spec/openai.js';
import type { ProviderAdapter } from '../../spec/provider.js';
import { builtInProviderNames } from '../../spec/schemas/provider.js';
import type { CatalogSnapshot } from '../../store/catalog.js';
import { effectiveProvider } from '../management/provider-settings.js';
import { enabledKeys, keyServes } from '../routing/router.js';

/**
 * The models a caller may use, as `provider/model`: for each provider with an enabled key, the models its keys
 * list, or the adapter's well-known models when a key allows every model. A keyless provider counts as having one
 * key that allows every model, so it offers its base type's well-known models, the same ones a bare name resolves
 * to it for. `allowed` narrows the list (API keys restricted to some models).
 */
export function listModels(
  snapshot: CatalogSnapshot,
  adapters: ReadonlyMap<string, ProviderAdapter>,
  allowed: (id: string) => boolean = () => true,
): ModelObject[] {
  const names = [...new Set([...builtInProviderNames, ...snapshot.providers.keys()])];
  const models: ModelObject[] = [];
  for (const name of names) {
    const provider = effectiveProvider(name, snapshot.providers.get(name));
    if (!provider) continue;
    const keys = enabledKeys(provider, snapshot);
    if (keys.length === 0) continue;
    const adapter = adapters.get(provider.adapterType);
    const candidates = new Set<string>();
    for (const key of keys) {
      for (const model of key.models.length > 0 ? key.models : (adapter?.knownModels ?? [])) candidates.add(model);
      for (const model of Object.keys(key.azure_key_config?.deployments ?? {})) candidates.add(model);
      if (key.vllm_key_config?.model_name) candidates.add(key.vllm_key_config.model_name);
    }
    const created = Math.floor(Math.min(...keys.map((key) => Date.parse(key.created_at))) / 1000);
    for (const model of [...candidates].sort()) {
      if (!keys.some((key) => keyServes(key, model, provider.adapterType))) continue;
      const id = `${name}/${model}`;
      if (allowed(id)) models.push({ id, object: 'model', created, owned_by: name });
    }
  }
  return models;
}
