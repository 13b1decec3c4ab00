import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { Database } from '../../src/store/database.js';
import type { TestStore } from './stores.js';

/**
 * Everything a test store holds, as text, for scans that no secret is kept in clear: the bytes of the SQLite files
 * (the database, its WAL and shared memory, whichever exist) or every row of every table of the PostgreSQL schema.
 */
export async function storeText(store: TestStore, database: Database): Promise<string> {
  if (store.kind === 'sqlite') {
    const files = [store.file!, `${store.file}-wal`, `${store.file}-shm`].filter((file) => existsSync(file));
    return files.map((file) => readFileSync(file).toString('latin1')).join('\n');
  }
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = ${store.schema!}`.execute(database.db);
  const rows: string[] = [];
  for (const { table_name: table } of tables.rows) {
    const result = await sql<{ row: string }>`select t::text as row from ${sql.id(store.schema!, table)} t`.execute(database.db);
    rows.push(...result.rows.map((row) => row.row));
  }
  return rows.join('\n');
}
