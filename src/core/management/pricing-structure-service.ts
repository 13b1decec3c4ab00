import { randomUUID } from 'node:crypto';
import type { Clock } from '../../spec/clock.js';
import { errors } from '../../spec/errors.js';
import type { PricingStructureInput, PricingStructureView } from '../../spec/schemas/pricing-structure.js';
import type { PricingStructureRecord, PricingStructureRepository } from '../../store/pricing-structure-repository.js';
import type { PricingStructure } from '../pricing/index.js';

export interface PricingStructureServiceDependencies {
  repository: PricingStructureRepository;
  clock: Clock;
  /** Ids of the provider keys whose `customPricingStructureId` names the structure (from the in-memory catalog). */
  keyReferences: (id: string) => string[];
  /** Called after every committed change, so other processes reload. */
  changed?: () => Promise<void>;
}

/**
 * Pricing structures: writes go to the database first, then to an in-memory map that the request path reads
 * through `exists` and `find` (never a database read there).
 */
export class PricingStructureService {
  #structures = new Map<string, PricingStructureRecord>();

  constructor(private readonly dependencies: PricingStructureServiceDependencies) {}

  /** (Re)loads every structure from the database: at start and on a cross-process refresh. */
  async load(): Promise<void> {
    const records = await this.dependencies.repository.list();
    this.#structures = new Map(records.map((record) => [record.id, freeze(record)]));
  }

  /** By name, then id. */
  list(): PricingStructureView[] {
    return [...this.#structures.values()].sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
  }

  get(id: string): PricingStructureView {
    return this.require(id);
  }

  exists(id: string): boolean {
    return this.#structures.has(id);
  }

  /**
   * The structure for pricing a request. The object stays the same until the structure changes (it is frozen and
   * replaced on every write), which is what the pricing module's per-object glob cache relies on.
   */
  find(id: string): PricingStructure | undefined {
    return this.#structures.get(id);
  }

  async create(input: PricingStructureInput): Promise<PricingStructureView> {
    const id = input.id ?? randomUUID();
    if (this.#structures.has(id)) throw alreadyExists(id);
    const now = this.now();
    const record = freeze({ id, name: input.name, entries: entriesFrom(input), created_at: now, updated_at: now });
    if (!(await this.dependencies.repository.insert(record))) throw alreadyExists(id);
    this.#structures.set(id, record);
    await this.changed();
    return record;
  }

  /** Replaces name and entries; `id` in the body, when sent, must be the one in the path. */
  async replace(id: string, input: PricingStructureInput): Promise<PricingStructureView> {
    const current = this.require(id);
    if (input.id !== undefined && input.id !== id) {
      throw errors.badRequest(`id "${input.id}" does not match the pricing structure in the path ("${id}")`, { param: 'id' });
    }
    const record = freeze({ id, name: input.name, entries: entriesFrom(input), created_at: current.created_at, updated_at: this.now() });
    if (!(await this.dependencies.repository.update(record))) {
      // Deleted by another process since our last load.
      this.#structures.delete(id);
      throw notFound(id);
    }
    this.#structures.set(id, record);
    await this.changed();
    return record;
  }

  /** Deletes a structure no provider key uses; answers it as it was. */
  async delete(id: string): Promise<PricingStructureView> {
    const current = this.require(id);
    const keyIds = this.dependencies.keyReferences(id);
    if (keyIds.length > 0) {
      throw errors.conflict(
        `Pricing structure "${id}" is used by provider key${keyIds.length > 1 ? 's' : ''} ${keyIds.map((keyId) => `"${keyId}"`).join(', ')}; ` +
          'change their customPricingStructureId first',
        { code: 'pricing_structure_in_use', param: 'id' },
      );
    }
    // Gone from the map before the await, so a key written meanwhile cannot start referencing it.
    this.#structures.delete(id);
    try {
      await this.dependencies.repository.delete(id);
    } catch (error) {
      this.#structures.set(id, current);
      throw error;
    }
    await this.changed();
    return current;
  }

  private require(id: string): PricingStructureRecord {
    const record = this.#structures.get(id);
    if (!record) throw notFound(id);
    return record;
  }

  private now(): string {
    return new Date(this.dependencies.clock()).toISOString();
  }

  private async changed(): Promise<void> {
    await this.dependencies.changed?.();
  }
}

function entriesFrom(input: PricingStructureInput): PricingStructureRecord['entries'] {
  return input.entries.map((entry) => ({
    model: entry.model,
    input_per_million: entry.input_per_million,
    output_per_million: entry.output_per_million,
    cached_input_per_million: entry.cached_input_per_million ?? null,
    cache_write_per_million: entry.cache_write_per_million ?? null,
    cache_write_long_per_million: entry.cache_write_long_per_million ?? null,
  }));
}

function freeze(record: PricingStructureRecord): PricingStructureRecord {
  for (const entry of record.entries) Object.freeze(entry);
  Object.freeze(record.entries);
  return Object.freeze(record);
}

/** Code-unit order: the same in every locale and store. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function notFound(id: string) {
  return errors.notFound(`Pricing structure "${id}" not found`, { code: 'pricing_structure_not_found', param: 'id' });
}

function alreadyExists(id: string) {
  return errors.conflict(`A pricing structure with id "${id}" already exists`, { code: 'pricing_structure_exists', param: 'id' });
}
