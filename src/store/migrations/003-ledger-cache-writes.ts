import type { Kysely, Migration } from 'kysely';

/**
 * The ledger's cache writes: prompt tokens a request wrote to the provider's cache (Anthropic's prompt caching),
 * which cost more than other input. Rows written before the column existed hold 0.
 */
export const ledgerCacheWritesMigration: Migration = {
  async up(database: Kysely<unknown>): Promise<void> {
    await database.schema
      .alterTable('usage_ledger')
      .addColumn('cache_write_tokens', 'integer', (column) => column.notNull().defaultTo(0))
      .execute();
  },
  async down(database: Kysely<unknown>): Promise<void> {
    await database.schema.alterTable('usage_ledger').dropColumn('cache_write_tokens').execute();
  },
};
