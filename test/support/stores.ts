import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/store/database.js';
import { postgresAvailable, postgresUrl } from './services.js';

/** A store for one test file: a fresh SQLite file, or a fresh PostgreSQL schema; both removed by `dispose`. */
export interface TestStore {
  kind: 'sqlite' | 'postgres';
  dataDir: string;
  /** The SQLite file, for checks that read it raw. */
  file?: string;
  databaseUrl?: string;
  schema?: string;
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

export function sqliteStore(): TestStore {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-test-'));
  return {
    kind: 'sqlite',
    dataDir,
    file: path.join(dataDir, 'tollgate.db'),
    open: () => openDatabase({ dataDir }),
    async dispose() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function postgresStore(): TestStore {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-test-'));
  const schema = `tollgate_test_${randomBytes(6).toString('hex')}`;
  return {
    kind: 'postgres',
    dataDir,
    databaseUrl: postgresUrl,
    schema,
    open: () => openDatabase({ dataDir, databaseUrl: postgresUrl, schema }),
    async dispose() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The stores a store-backed suite runs against: SQLite always, PostgreSQL when reachable (required in CI). */
export const storeKinds: Array<{ name: string; create: () => TestStore }> = [
  { name: 'sqlite', create: sqliteStore },
  ...(postgresAvailable ? [{ name: 'postgres', create: postgresStore }] : []),
];
