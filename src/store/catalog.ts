import type { KeyRecord } from './key-record.js';
import type { ProviderRecord } from './provider-repository.js';

/**
 * The in-memory copy of providers and keys that the request path reads. It is replaced wholesale on every
 * change (copy-on-write), so a request holding a snapshot sees a consistent view and never waits on a lock.
 */
export interface CatalogSnapshot {
  /** Increases with every change; derived caches compare it to know when to rebuild. */
  readonly version: number;
  readonly providers: ReadonlyMap<string, ProviderRecord>;
  readonly keys: ReadonlyMap<string, KeyRecord>;
  readonly keysByProvider: ReadonlyMap<string, readonly KeyRecord[]>;
}

/** Holds the current snapshot; writers swap in a new one after the database write succeeded. */
export class Catalog {
  #snapshot: CatalogSnapshot = build(0, [], []);

  get snapshot(): CatalogSnapshot {
    return this.#snapshot;
  }

  /** Replaces everything (start-up and cross-process refresh). */
  replace(providers: ProviderRecord[], keys: KeyRecord[]): void {
    this.#snapshot = build(this.#snapshot.version + 1, providers, keys);
  }

  putKey(record: KeyRecord): void {
    const keys = new Map(this.#snapshot.keys);
    keys.set(record.id, record);
    this.#snapshot = build(this.#snapshot.version + 1, [...this.#snapshot.providers.values()], [...keys.values()]);
  }

  removeKey(id: string): void {
    const keys = new Map(this.#snapshot.keys);
    keys.delete(id);
    this.#snapshot = build(this.#snapshot.version + 1, [...this.#snapshot.providers.values()], [...keys.values()]);
  }

  putProvider(record: ProviderRecord): void {
    const providers = new Map(this.#snapshot.providers);
    providers.set(record.name, record);
    this.#snapshot = build(this.#snapshot.version + 1, [...providers.values()], [...this.#snapshot.keys.values()]);
  }

  /** Removes a provider's stored settings and all its keys. */
  removeProvider(name: string): void {
    const providers = new Map(this.#snapshot.providers);
    providers.delete(name);
    const keys = [...this.#snapshot.keys.values()].filter((key) => key.provider !== name);
    this.#snapshot = build(this.#snapshot.version + 1, [...providers.values()], keys);
  }
}

function build(version: number, providers: ProviderRecord[], keys: KeyRecord[]): CatalogSnapshot {
  const keysByProvider = new Map<string, KeyRecord[]>();
  for (const key of keys) {
    const list = keysByProvider.get(key.provider);
    if (list) list.push(key);
    else keysByProvider.set(key.provider, [key]);
  }
  return {
    version,
    providers: new Map(providers.map((provider) => [provider.name, provider])),
    keys: new Map(keys.map((key) => [key.id, key])),
    keysByProvider,
  };
}
