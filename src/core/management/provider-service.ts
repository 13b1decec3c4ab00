import { errors } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import {
  builtInProviderNames,
  type CreateProviderInput,
  type ProviderView,
  type UpdateProviderInput,
} from '../../spec/schemas/provider.js';
import type { Catalog } from '../../store/catalog.js';
import type { ProviderKeyRepository } from '../../store/provider-key-repository.js';
import type { ProviderRecord, ProviderRepository } from '../../store/provider-repository.js';
import { effectiveProvider, isBuiltInProvider, settingsFromInput, toProviderView, type EffectiveProvider } from './provider-settings.js';

export interface ProviderServiceDependencies {
  catalog: Catalog;
  providers: ProviderRepository;
  keys: ProviderKeyRepository;
  clock: Clock;
  /** Called after every committed change, so other processes reload. */
  changed: () => Promise<void>;
}

/** Lists, creates, changes and deletes providers; writes go to the database first, then to the catalog. */
export class ProviderService {
  constructor(private readonly dependencies: ProviderServiceDependencies) {}

  /** Built-in providers first (in their fixed order), then custom providers by name. */
  list(): ProviderView[] {
    const snapshot = this.dependencies.catalog.snapshot;
    const names = [
      ...builtInProviderNames,
      ...[...snapshot.providers.keys()].filter((name) => !isBuiltInProvider(name)).sort(),
    ];
    return names.map((name) => this.view(this.find(name)!));
  }

  get(name: string): ProviderView {
    return this.view(this.require(name));
  }

  /** The effective provider, or a 404. */
  require(name: string): EffectiveProvider {
    const provider = this.find(name);
    if (!provider) {
      throw errors.notFound(`Provider "${name}" not found`, { code: 'provider_not_found', param: 'provider' });
    }
    return provider;
  }

  find(name: string): EffectiveProvider | undefined {
    return effectiveProvider(name, this.dependencies.catalog.snapshot.providers.get(name));
  }

  async create(input: CreateProviderInput): Promise<ProviderView> {
    if (this.find(input.provider)) {
      throw errors.conflict(`Provider "${input.provider}" already exists`, { code: 'provider_exists', param: 'provider' });
    }
    const now = new Date(this.dependencies.clock()).toISOString();
    const record: ProviderRecord = {
      name: input.provider,
      custom: true,
      settings: settingsFromInput(input, { custom: true }),
      config_hash: '',
      created_at: now,
      updated_at: now,
    };
    await this.save(record);
    return this.get(record.name);
  }

  /** Replaces a provider's settings with what the body sends (absent settings return to their defaults). */
  async update(name: string, input: UpdateProviderInput & { keys?: unknown }): Promise<ProviderView> {
    const current = this.require(name);
    if (input.keys !== undefined) {
      throw errors.badRequest(
        `PUT /api/providers/${name} does not take keys; use /api/providers/${name}/keys to add, change or remove keys`,
        { param: 'keys' },
      );
    }
    for (const field of ['name', 'provider'] as const) {
      const sent = input[field];
      if (sent !== undefined && sent !== name) {
        throw errors.badRequest(`${field} "${sent}" does not match the provider in the path ("${name}")`, { param: field });
      }
    }
    const custom = !current.builtIn;
    const settings = settingsFromInput(
      { ...input, custom_provider_config: custom ? (input.custom_provider_config ?? current.custom) : input.custom_provider_config },
      { custom },
    );
    const now = new Date(this.dependencies.clock()).toISOString();
    await this.save({
      name,
      custom,
      settings,
      config_hash: current.record?.config_hash ?? '',
      created_at: current.record?.created_at ?? now,
      updated_at: now,
    });
    return this.get(name);
  }

  /**
   * Deletes a custom provider with its keys. A built-in provider cannot disappear: deleting it removes its keys
   * and returns its settings to the defaults. Answers the provider as it was.
   */
  async delete(name: string): Promise<ProviderView> {
    const before = this.get(name);
    await this.dependencies.keys.deleteByProvider(name);
    await this.dependencies.providers.delete(name);
    this.dependencies.catalog.removeProvider(name);
    await this.dependencies.changed();
    return before;
  }

  /** Stores a provider record as is (used by the config-file reconcile too). */
  async save(record: ProviderRecord): Promise<void> {
    await this.dependencies.providers.save(record);
    this.dependencies.catalog.putProvider(record);
    await this.dependencies.changed();
  }

  private view(provider: EffectiveProvider): ProviderView {
    const keyCount = this.dependencies.catalog.snapshot.keysByProvider.get(provider.name)?.length ?? 0;
    return toProviderView(provider, keyCount);
  }
}
