import type { Kysely, Migration } from 'kysely';

/** Settings, providers, provider keys and pricing structures. */
export const initialMigration: Migration = {
  async up(database: Kysely<unknown>): Promise<void> {
    await database.schema
      .createTable('settings')
      .addColumn('name', 'varchar(200)', (column) => column.primaryKey())
      .addColumn('value', 'text', (column) => column.notNull())
      .execute();
    await database.schema
      .createTable('providers')
      .addColumn('name', 'varchar(100)', (column) => column.primaryKey())
      .addColumn('custom', 'integer', (column) => column.notNull())
      .addColumn('settings', 'text', (column) => column.notNull())
      .addColumn('config_hash', 'varchar(100)', (column) => column.notNull().defaultTo(''))
      .addColumn('created_at', 'varchar(40)', (column) => column.notNull())
      .addColumn('updated_at', 'varchar(40)', (column) => column.notNull())
      .execute();
    await database.schema
      .createTable('provider_keys')
      .addColumn('id', 'varchar(200)', (column) => column.primaryKey())
      .addColumn('provider', 'varchar(100)', (column) => column.notNull())
      .addColumn('name', 'varchar(200)', (column) => column.notNull())
      .addColumn('document', 'text', (column) => column.notNull())
      .addColumn('secrets', 'text', (column) => column.notNull())
      .addColumn('config_hash', 'varchar(100)', (column) => column.notNull().defaultTo(''))
      .addColumn('status', 'varchar(500)', (column) => column.notNull().defaultTo(''))
      .addColumn('created_at', 'varchar(40)', (column) => column.notNull())
      .addColumn('updated_at', 'varchar(40)', (column) => column.notNull())
      .addUniqueConstraint('provider_keys_provider_name_unique', ['provider', 'name'])
      .execute();
    await database.schema
      .createTable('pricing_structures')
      .addColumn('id', 'varchar(200)', (column) => column.primaryKey())
      .addColumn('name', 'varchar(200)', (column) => column.notNull())
      .addColumn('entries', 'text', (column) => column.notNull())
      .addColumn('created_at', 'varchar(40)', (column) => column.notNull())
      .addColumn('updated_at', 'varchar(40)', (column) => column.notNull())
      .execute();
  },
  async down(database: Kysely<unknown>): Promise<void> {
    for (const table of ['pricing_structures', 'provider_keys', 'providers', 'settings']) {
      await database.schema.dropTable(table).execute();
    }
  },
};
