import type { Kysely } from 'kysely';
import type { PricingStructureView } from '../spec/schemas/pricing-structure.js';
import type { DatabaseSchema } from './schema.js';

/** A stored pricing structure: the API's view of it, entries decoded from their JSON column. */
export type PricingStructureRecord = PricingStructureView;

/** Reads and writes pricing structures. */
export class PricingStructureRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async list(): Promise<PricingStructureRecord[]> {
    const rows = await this.db.selectFrom('pricing_structures').selectAll().orderBy('id').execute();
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      entries: (JSON.parse(row.entries) as Array<PricingStructureRecord['entries'][number]>).map((entry) => ({
        model: entry.model,
        input_per_million: entry.input_per_million,
        output_per_million: entry.output_per_million,
        cached_input_per_million: entry.cached_input_per_million ?? null,
        // Structures stored before these rates existed have none.
        cache_write_per_million: entry.cache_write_per_million ?? null,
        cache_write_long_per_million: entry.cache_write_long_per_million ?? null,
      })),
      created_at: row.created_at,
      updated_at: row.updated_at,
    }));
  }

  /** Inserts a new structure; false (and nothing written) when the id is taken, also by another process. */
  async insert(record: PricingStructureRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('pricing_structures')
      .values(toRow(record))
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Replaces name and entries; false when no row has the id. */
  async update(record: PricingStructureRecord): Promise<boolean> {
    const row = toRow(record);
    const result = await this.db
      .updateTable('pricing_structures')
      .set({ name: row.name, entries: row.entries, updated_at: row.updated_at })
      .where('id', '=', record.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes a structure; false when no row had the id. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('pricing_structures').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toRow(record: PricingStructureRecord) {
  return {
    id: record.id,
    name: record.name,
    entries: JSON.stringify(record.entries),
    created_at: record.created_at,
    updated_at: record.updated_at,
  };
}
