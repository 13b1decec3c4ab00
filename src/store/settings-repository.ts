import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';

/** Small named values: the admin key's hash, the configuration revision. */
export class SettingsRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async get(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value;
  }

  async set(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ name, value })
      .onConflict((conflict) => conflict.column('name').doUpdateSet({ value }))
      .execute();
  }

  /** Inserts only when absent; returns the value that is stored afterwards (first writer wins across processes). */
  async setIfAbsent(name: string, value: string): Promise<string> {
    await this.db.insertInto('settings').values({ name, value }).onConflict((conflict) => conflict.column('name').doNothing()).execute();
    return (await this.get(name)) ?? value;
  }
}
