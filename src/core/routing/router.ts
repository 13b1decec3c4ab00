import { errors } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { ProviderAdapter } from '../../spec/provider.js';
import { builtInProviderNames } from '../../spec/schemas/provider.js';
import type { Catalog, CatalogSnapshot } from '../../store/catalog.js';
import type { KeyRecord } from '../../store/key-record.js';
import { effectiveProvider, type EffectiveProvider } from '../management/provider-settings.js';

/** Where one attempt goes: a provider, its adapter, and the model name as the upstream knows it. */
export interface RouteTarget {
  provider: EffectiveProvider;
  adapter: ProviderAdapter;
  /** The model without the provider prefix. */
  model: string;
  /** What the client asked for (`provider/model` or a bare name). */
  requested: string;
}

/** Random numbers in [0, 1); injected so that tests of the weighted choice are deterministic. */
export type RandomSource = () => number;

const maxCachedRoutes = 10_000;

/**
 * Resolves model names to providers and picks keys. Everything is derived from the catalog snapshot and cached
 * per snapshot version, so the request path does no database work and little allocation.
 */
export class Router {
  #version = -1;
  #routes = new Map<string, RouteTarget | Error>();
  #eligible = new Map<string, readonly KeyRecord[]>();
  /** Key id → time (ms) until which the key is cooling down after a 429. */
  #cooldowns = new Map<string, number>();

  constructor(
    private readonly catalog: Catalog,
    private readonly adapters: ReadonlyMap<string, ProviderAdapter>,
    private readonly clock: Clock,
    private readonly random: RandomSource = Math.random,
  ) {}

  /** Resolves `provider/model` or a bare model name; a 400 says how to address the model otherwise. */
  resolve(requested: string): RouteTarget {
    const snapshot = this.#fresh();
    let route = this.#routes.get(requested);
    if (route === undefined) {
      try {
        route = this.#resolve(requested, snapshot);
      } catch (error) {
        route = error as Error;
      }
      if (this.#routes.size >= maxCachedRoutes) this.#routes.clear();
      this.#routes.set(requested, route);
    }
    if (route instanceof Error) throw route;
    return route;
  }

  /** The keys that may serve a model: enabled, allowed by `models`, not blacklisted, with a deployment when required. */
  eligibleKeys(target: RouteTarget): readonly KeyRecord[] {
    this.#fresh();
    const cacheKey = `${target.provider.name}\u0000${target.model}`;
    let keys = this.#eligible.get(cacheKey);
    if (!keys) {
      keys = enabledKeys(target.provider, this.catalog.snapshot).filter((key) => keyServes(key, target.model, target.provider.adapterType));
      this.#eligible.set(cacheKey, keys);
    }
    return keys;
  }

  /**
   * The model ids the eligible keys (only the pinned one, when given) would ask the upstream for: each key's
   * deployment of the model, else the model itself. Lets a caller see that an alias (a Vertex or Bedrock deployment
   * named "sonnet") ends at a Claude model.
   */
  deployedModels(target: RouteTarget, pinnedKeyId?: string): string[] {
    const keys = this.eligibleKeys(target).filter((key) => pinnedKeyId === undefined || key.id === pinnedKeyId);
    const models = keys.map((key) => deploymentsOf(key, target.provider.adapterType)?.[target.model] || target.model);
    return [...new Set(models)];
  }

  /**
   * Picks a key by weight among the eligible ones not yet tried for this request. Keys cooling down after a 429
   * and keys whose credentials failed are used only when nothing else is left. `pinned` restricts the choice to one key.
   */
  pick(target: RouteTarget, options: { pinned?: string | undefined; exclude: ReadonlySet<string> }): KeyRecord | undefined {
    const keys = this.eligibleKeys(target);
    const now = this.clock();
    const candidate = (key: KeyRecord) => !options.exclude.has(key.id) && (options.pinned === undefined || key.id === options.pinned);
    return (
      this.#weightedWhere(keys, (key) => candidate(key) && !this.coolingDown(key.id, now) && !key.status.startsWith('failing')) ??
      this.#weightedWhere(keys, (key) => candidate(key) && !this.coolingDown(key.id, now))
    );
  }

  /** Milliseconds until the earliest cooling key of a target is usable again (for retry-after), or undefined. */
  shortestCooldown(target: RouteTarget): number | undefined {
    const now = this.clock();
    let shortest: number | undefined;
    for (const key of this.eligibleKeys(target)) {
      const until = this.#cooldowns.get(key.id);
      if (until !== undefined && until > now) shortest = Math.min(shortest ?? Infinity, until - now);
    }
    return shortest;
  }

  /** Rests a key that answered 429. */
  coolDown(keyId: string, milliseconds: number): void {
    this.#cooldowns.set(keyId, this.clock() + milliseconds);
  }

  coolingDown(keyId: string, now: number = this.clock()): boolean {
    const until = this.#cooldowns.get(keyId);
    if (until === undefined) return false;
    if (until <= now) {
      this.#cooldowns.delete(keyId);
      return false;
    }
    return true;
  }

  /**
   * A key chosen by weight among those `accepted`, in key order, without building a list of them: the request path
   * picks a key on every request. One random draw when there is a choice, none for a single key.
   */
  #weightedWhere(keys: readonly KeyRecord[], accepted: (key: KeyRecord) => boolean): KeyRecord | undefined {
    let count = 0;
    let total = 0;
    let last: KeyRecord | undefined;
    for (const key of keys) {
      if (!accepted(key)) continue;
      count += 1;
      total += key.weight;
      last = key;
    }
    if (count <= 1) return last;
    let point = this.random() * total;
    for (const key of keys) {
      if (!accepted(key)) continue;
      point -= key.weight;
      if (point < 0) return key;
    }
    return last;
  }

  #fresh(): CatalogSnapshot {
    const snapshot = this.catalog.snapshot;
    if (snapshot.version !== this.#version) {
      this.#version = snapshot.version;
      this.#routes.clear();
      this.#eligible.clear();
    }
    return snapshot;
  }

  #resolve(requested: string, snapshot: CatalogSnapshot): RouteTarget {
    const trimmed = requested.trim();
    if (trimmed === '') throw errors.badRequest('model is required', { param: 'model', code: 'model_required' });
    const slash = trimmed.indexOf('/');
    if (slash > 0) {
      const provider = this.#provider(trimmed.slice(0, slash), snapshot);
      if (provider) {
        const model = trimmed.slice(slash + 1);
        if (model === '') {
          throw errors.badRequest(`Model missing after "${provider.name}/": address models as provider/model`, { param: 'model', code: 'model_not_found' });
        }
        return this.#target(provider, model, requested);
      }
    }
    return this.#resolveBare(trimmed, requested, snapshot);
  }

  #resolveBare(model: string, requested: string, snapshot: CatalogSnapshot): RouteTarget {
    const names = [...new Set([...builtInProviderNames, ...snapshot.providers.keys()])];
    const providers = names.map((name) => this.#provider(name, snapshot)).filter((provider): provider is EffectiveProvider => provider !== undefined);
    const listing = providers.filter((provider) => enabledKeys(provider, snapshot).some((key) => key.models.includes(model)));
    const known = providers.filter((provider) => this.adapters.get(provider.adapterType)?.knownModels.includes(model));
    // A keyless provider's slot counts as an enabled key that allows every model: it answers for its base type's
    // well-known models like a provider with an unrestricted key, and shares a name with such a provider ambiguously.
    const knownWithKeys = known.filter((provider) => enabledKeys(provider, snapshot).length > 0);
    for (const candidates of [listing, knownWithKeys, known.filter((provider) => provider.builtIn)]) {
      if (candidates.length === 1) return this.#target(candidates[0]!, model, requested);
      if (candidates.length > 1) {
        throw errors.badRequest(
          `Model "${model}" is ambiguous: it is served by ${candidates.map((provider) => `"${provider.name}/${model}"`).join(', ')}. Address it as provider/model.`,
          { param: 'model', code: 'model_ambiguous' },
        );
      }
    }
    throw errors.badRequest(
      `Unknown model "${model}": address it as provider/model (for example "openai/gpt-4o"), or list it in a provider key's models`,
      { param: 'model', code: 'model_not_found' },
    );
  }

  #provider(name: string, snapshot: CatalogSnapshot): EffectiveProvider | undefined {
    return effectiveProvider(name, snapshot.providers.get(name));
  }

  #target(provider: EffectiveProvider, model: string, requested: string): RouteTarget {
    const adapter = this.adapters.get(provider.adapterType);
    if (!adapter) {
      throw errors.badRequest(`Provider "${provider.name}" (${provider.adapterType}) is not supported by this gateway yet`, {
        param: 'model',
        code: 'provider_not_supported',
        provider: provider.name,
      });
    }
    return { provider, adapter, model, requested };
  }
}

/** The id of the credential-less slot of a keyless provider, as it appears in x-tollgate-key-id and logs. */
export function keylessKeyId(provider: string): string {
  return `keyless:${provider}`;
}

/**
 * The keys ready to serve a provider: its enabled stored keys, or for a keyless provider its one credential-less
 * slot, which serves every model (keys cannot be created on keyless providers, so any stored one is ignored).
 * Routing, bare-name resolution and the model list all start from here, so that they agree on what a provider serves.
 */
export function enabledKeys(provider: EffectiveProvider, snapshot: CatalogSnapshot): readonly KeyRecord[] {
  if (provider.keyless) return [keylessKey(provider)];
  return (snapshot.keysByProvider.get(provider.name) ?? []).filter((key) => key.enabled);
}

/** The stand-in key of a keyless provider: no value, no filters, as old as the provider. */
function keylessKey(provider: EffectiveProvider): KeyRecord {
  const created = provider.record?.created_at ?? '';
  return {
    id: keylessKeyId(provider.name),
    provider: provider.name,
    name: 'keyless',
    value: null,
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
    created_at: created,
    updated_at: created,
  };
}

/** Whether a key may serve a model (seed 002's filters). */
export function keyServes(key: KeyRecord, model: string, adapterType: string): boolean {
  if (!key.enabled) return false;
  if (key.blacklisted_models.includes(model)) return false;
  if (key.models.length > 0 && !key.models.includes(model)) return false;
  // Bedrock deployments only rename models; a Bedrock key still serves any model id as it is.
  const deployments = adapterType === 'bedrock' ? undefined : deploymentsOf(key, adapterType);
  if (deployments && Object.keys(deployments).length > 0 && deployments[model] === undefined) return false;
  const served = key.vllm_key_config?.model_name;
  if (adapterType === 'vllm' && served && served !== model) return false;
  return true;
}

/** A key's model-to-deployment mapping for the adapter type it serves, if that type has one. */
function deploymentsOf(key: KeyRecord, adapterType: string): Record<string, string> | undefined {
  if (adapterType === 'azure') return key.azure_key_config?.deployments;
  if (adapterType === 'vertex') return key.vertex_key_config?.deployments;
  if (adapterType === 'bedrock') return key.bedrock_key_config?.deployments;
  if (adapterType === 'replicate') return key.replicate_key_config?.deployments;
  return undefined;
}
