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
  /** What the SQLite write thread reported (a store opened with one): a test expects none. */
  writeThreadErrors?: unknown[];
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

/** A SQLite file; with `writeThread`, its request-caused writes run on a worker thread, as the server runs them. */
export function sqliteStore(options: { writeThread?: boolean } = {}): TestStore {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-test-'));
  const writeThreadErrors: unknown[] = [];
  return {
    kind: 'sqlite',
    dataDir,
    file: path.join(dataDir, 'tollgate.db'),
    ...(options.writeThread ? { writeThreadErrors } : {}),
    open: () => openDatabase({ dataDir, ...(options.writeThread ? { writeThread: { onError: (error) => writeThreadErrors.push(error) } } : {}) }),
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

/** The stores of the suites about the writes requests cause: those of `storeKinds`, and SQLite with its write thread. */
export const writeStoreKinds: Array<{ name: string; create: () => TestStore }> = [
  ...storeKinds,
  { name: 'sqlite with its write thread', create: () => sqliteStore({ writeThread: true }) },
];
