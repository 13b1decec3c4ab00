import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './001-initial.js';
import { apiKeysAndLedgerMigration } from './002-api-keys-and-ledger.js';
import { ledgerCacheWritesMigration } from './003-ledger-cache-writes.js';

/** Every migration, in order; the same for SQLite and PostgreSQL. Names are fixed once released. */
const migrations: Record<string, Migration> = {
  '001-initial': initialMigration,
  '002-api-keys-and-ledger': apiKeysAndLedgerMigration,
  '003-ledger-cache-writes': ledgerCacheWritesMigration,
};

/** A Kysely migration provider over the migrations compiled into Tollgate (no file-system scan). */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
