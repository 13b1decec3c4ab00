import { randomUUID } from 'node:crypto';
import { errors } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { EnvironmentReader } from '../../spec/environment-reader.js';
import type { ProviderKeyInput, ProviderKeyView } from '../../spec/schemas/provider-key.js';
import type { Catalog } from '../../store/catalog.js';
import type { KeyRecord } from '../../store/key-record.js';
import type { ProviderKeyRepository } from '../../store/provider-key-repository.js';
import { buildKeyRecord } from './key-rules.js';
import { toKeyView } from './key-view.js';
import type { ProviderService } from './provider-service.js';

export interface KeyServiceDependencies {
  catalog: Catalog;
  keys: ProviderKeyRepository;
  providers: ProviderService;
  clock: Clock;
  readEnvironment: EnvironmentReader;
  pricingStructureExists: (id: string) => boolean;
  changed: () => Promise<void>;
}

/** Provider keys: seed 002's routes and rules; writes go to the database first, then to the catalog. */
export class KeyService {
  constructor(private readonly dependencies: KeyServiceDependencies) {}

  /** Keys of one provider, or of all providers when none is named. */
  list(provider?: string): ProviderKeyView[] {
    const snapshot = this.dependencies.catalog.snapshot;
    if (provider !== undefined) this.dependencies.providers.require(provider);
    const records = provider === undefined ? [...snapshot.keys.values()] : [...(snapshot.keysByProvider.get(provider) ?? [])];
    return records.map((record) => this.view(record));
  }

  get(provider: string, id: string): ProviderKeyView {
    return this.view(this.require(provider, id));
  }

  /** The stored record (secrets in clear) — for the core only, never for a response. */
  require(provider: string, id: string): KeyRecord {
    this.dependencies.providers.require(provider);
    const record = this.dependencies.catalog.snapshot.keys.get(id);
    if (!record || record.provider !== provider) {
      throw errors.notFound(`Key "${id}" not found for provider "${provider}"`, { code: 'key_not_found', param: 'key_id' });
    }
    return record;
  }

  async create(provider: string, input: ProviderKeyInput, options: { configHash?: string } = {}): Promise<ProviderKeyView> {
    const effective = this.dependencies.providers.require(provider);
    const id = input.id ?? randomUUID();
    if (this.dependencies.catalog.snapshot.keys.has(id)) {
      throw errors.conflict(`A key with id "${id}" already exists`, { code: 'key_exists', param: 'id' });
    }
    const record = buildKeyRecord(input, {
      provider: effective,
      existing: undefined,
      id,
      now: this.now(),
      pricingStructureExists: this.dependencies.pricingStructureExists,
    });
    record.config_hash = options.configHash ?? '';
    this.assertUniqueName(record);
    await this.write(() => this.dependencies.keys.insert(record));
    this.dependencies.catalog.putKey(record);
    await this.dependencies.changed();
    return this.view(record);
  }

  /** Replaces a key with what the body sends (seed 002's PUT). */
  async replace(provider: string, id: string, input: ProviderKeyInput, options: { configHash?: string } = {}): Promise<ProviderKeyView> {
    const existing = this.require(provider, id);
    if (input.id !== undefined && input.id !== id) {
      throw errors.badRequest(`id "${input.id}" does not match the key in the path ("${id}")`, { param: 'id' });
    }
    const record = buildKeyRecord(input, {
      provider: this.dependencies.providers.require(provider),
      existing,
      id,
      now: this.now(),
      pricingStructureExists: this.dependencies.pricingStructureExists,
    });
    if (options.configHash !== undefined) record.config_hash = options.configHash;
    // A changed key gets a fresh chance: a failure recorded against the old credentials no longer applies.
    record.status = '';
    return this.store(record);
  }

  /** Saves an already-built record over the stored one. */
  async store(record: KeyRecord): Promise<ProviderKeyView> {
    this.assertUniqueName(record);
    await this.write(() => this.dependencies.keys.update(record));
    this.dependencies.catalog.putKey(record);
    await this.dependencies.changed();
    return this.view(record);
  }

  async delete(provider: string, id: string): Promise<ProviderKeyView> {
    const existing = this.require(provider, id);
    const view = this.view(existing);
    await this.dependencies.keys.delete(id);
    this.dependencies.catalog.removeKey(id);
    await this.dependencies.changed();
    return view;
  }

  /** Finds a key by id across providers (the seed-000 route has no provider in its path). */
  findById(id: string): KeyRecord | undefined {
    return this.dependencies.catalog.snapshot.keys.get(id);
  }

  /**
   * Records the outcome of using a key (e.g. the upstream rejected its credentials), shown in `status`.
   * Called off the request path; a failed write is not worth failing anything for.
   */
  async setStatus(id: string, status: string): Promise<void> {
    const record = this.dependencies.catalog.snapshot.keys.get(id);
    if (!record || record.status === status) return;
    const updated = { ...record, status };
    this.dependencies.catalog.putKey(updated);
    await this.dependencies.keys.updateStatus(id, status);
  }

  view(record: KeyRecord): ProviderKeyView {
    return toKeyView(record, this.dependencies.readEnvironment);
  }

  private assertUniqueName(record: KeyRecord): void {
    const siblings = this.dependencies.catalog.snapshot.keysByProvider.get(record.provider) ?? [];
    if (siblings.some((key) => key.name === record.name && key.id !== record.id)) {
      throw errors.conflict(`Provider "${record.provider}" already has a key named "${record.name}"`, {
        code: 'key_name_exists',
        param: 'name',
      });
    }
  }

  /** Runs a write, turning a lost race on a unique constraint (another process) into a 409. */
  private async write(operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (/unique|duplicate key/i.test(message)) {
        throw errors.conflict('A key with this id, or with this name for this provider, already exists', { code: 'key_exists' });
      }
      throw error;
    }
  }

  private now(): string {
    return new Date(this.dependencies.clock()).toISOString();
  }
}
