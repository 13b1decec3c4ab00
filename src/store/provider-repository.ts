import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';

/** A provider's stored settings (validated JSON, shape owned by core). */
export interface ProviderRecord {
  name: string;
  custom: boolean;
  settings: Record<string, unknown>;
  config_hash: string;
  created_at: string;
  updated_at: string;
}

/** Reads and writes provider settings. */
export class ProviderRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async list(): Promise<ProviderRecord[]> {
    const rows = await this.db.selectFrom('providers').selectAll().orderBy('name').execute();
    return rows.map((row) => ({
      name: row.name,
      custom: row.custom === 1,
      settings: JSON.parse(row.settings) as Record<string, unknown>,
      config_hash: row.config_hash,
      created_at: row.created_at,
      updated_at: row.updated_at,
    }));
  }

  /** Inserts or replaces a provider's settings. */
  async save(record: ProviderRecord): Promise<void> {
    const row = {
      name: record.name,
      custom: record.custom ? 1 : 0,
      settings: JSON.stringify(record.settings),
      config_hash: record.config_hash,
      created_at: record.created_at,
      updated_at: record.updated_at,
    };
    await this.db
      .insertInto('providers')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet({ custom: row.custom, settings: row.settings, config_hash: row.config_hash, updated_at: row.updated_at }),
      )
      .execute();
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('providers').where('name', '=', name).execute();
  }
}
