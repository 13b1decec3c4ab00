import type { Kysely, Migration } from 'kysely';

/** Client API keys and the usage ledger. */
export const apiKeysAndLedgerMigration: Migration = {
  async up(database: Kysely<unknown>): Promise<void> {
    await database.schema
      .createTable('api_keys')
      .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
      .addColumn('secret_hash', 'varchar(64)', (column) => column.notNull().unique())
      .addColumn('last6', 'varchar(6)', (column) => column.notNull())
      .addColumn('type', 'varchar(16)', (column) => column.notNull())
      .addColumn('description', 'text', (column) => column.notNull())
      .addColumn('consumption_limits', 'text', (column) => column.notNull())
      .addColumn('limit_period', 'varchar(16)', (column) => column.notNull())
      .addColumn('period_since', 'varchar(40)', (column) => column.notNull())
      .addColumn('expires_at', 'varchar(40)')
      .addColumn('models', 'text', (column) => column.notNull())
      .addColumn('rate_limits', 'text', (column) => column.notNull())
      .addColumn('created_at', 'varchar(40)', (column) => column.notNull())
      .addColumn('updated_at', 'varchar(40)', (column) => column.notNull())
      .addColumn('last_used_at', 'varchar(40)')
      .execute();
    await database.schema
      .createTable('usage_ledger')
      .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
      .addColumn('request_id', 'varchar(200)', (column) => column.notNull())
      .addColumn('api_key_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('provider', 'varchar(100)', (column) => column.notNull())
      .addColumn('model', 'varchar(300)', (column) => column.notNull())
      .addColumn('provider_key_id', 'varchar(200)')
      .addColumn('request_type', 'varchar(32)', (column) => column.notNull())
      .addColumn('status', 'integer', (column) => column.notNull())
      .addColumn('stream', 'integer', (column) => column.notNull())
      .addColumn('input_tokens', 'integer', (column) => column.notNull())
      .addColumn('output_tokens', 'integer', (column) => column.notNull())
      .addColumn('cached_tokens', 'integer', (column) => column.notNull())
      .addColumn('cost_usd', 'double precision', (column) => column.notNull())
      .addColumn('usage_missing', 'integer', (column) => column.notNull())
      .addColumn('error_code', 'varchar(100)')
      .addColumn('latency_ms', 'integer', (column) => column.notNull())
      .addColumn('created_at', 'varchar(40)', (column) => column.notNull())
      .execute();
    await database.schema.createIndex('usage_ledger_key_time').on('usage_ledger').columns(['api_key_id', 'created_at']).execute();
    await database.schema.createIndex('usage_ledger_time').on('usage_ledger').column('created_at').execute();
    await database.schema.createIndex('usage_ledger_request').on('usage_ledger').column('request_id').execute();
  },
  async down(database: Kysely<unknown>): Promise<void> {
    await database.schema.dropTable('usage_ledger').execute();
    await database.schema.dropTable('api_keys').execute();
  },
};
