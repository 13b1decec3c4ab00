import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import { SqliteWriteThread } from './sqlite-write-thread.js';
import { prepareSqliteWrites, type SqliteWrite } from './sqlite-writes.js';
import type { DatabaseSchema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** An open database with its migrations applied. */
export interface Database {
  db: Kysely<DatabaseSchema>;
  dialect: Dialect;
  /** Where it lives, for logs: the SQLite file, or the PostgreSQL host and database (never the password). */
  location: string;
  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, SQLite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL schema to use (created when missing); tests give each run its own. */
  schema?: string;
  /** SQLite file name inside dataDir (default tollgate.db); ':memory:' for an in-memory database. */
  sqliteFile?: string;
  /**
   * SQLite in a file: run the writes that requests cause (ledger rows, last-used times) on a worker thread with its
   * own connection (see SqliteWriteThread), so that their commits and checkpoints never block the event loop.
   * `onError` is told if the worker stops; those writes then run on the process's connection again. The server
   * turns it on; tools and most tests write on the one connection. `workerUrl` replaces the worker's module (tests).
   */
  writeThread?: { onError: (error: unknown) => void; workerUrl?: URL };
}

/** How long a SQLite connection waits for another's write lock before its statement fails. */
const busyTimeoutMs = 5000;

/** SQLite's own default: a commit that takes the log past this many frames checkpoints it. */
const autocheckpointFrames = 1000;

/** The request-caused writes of each Kysely instance this module opened on SQLite. */
const sqliteWriters = new WeakMap<Kysely<DatabaseSchema>, (write: SqliteWrite) => Promise<void>>();

/**
 * Runs the writes that requests cause on `db` when it is a SQLite database opened here, else undefined (PostgreSQL:
 * the repositories write through Kysely). Each resolves once committed, all or nothing. They run with statements
 * prepared once (Kysely's driver prepares every query anew): on the write thread when the database has one, else on
 * the process's connection, holding Kysely's connection so that they never run inside a transaction Kysely has open.
 */
export function sqliteWritesOf(db: Kysely<DatabaseSchema>): ((write: SqliteWrite) => Promise<void>) | undefined {
  return sqliteWriters.get(db);
}

/** Opens the database (SQLite by default, PostgreSQL with a URL) and runs pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.databaseUrl ? await openPostgres(options.databaseUrl, options.schema) : openSqlite(options);
  if (options.databaseUrl && options.schema) {
    await sql`create schema if not exists ${sql.id(options.schema)}`.execute(database.db);
  }
  await migrate(database.db, options.databaseUrl ? options.schema : undefined);
  return database;
}

function openSqlite(options: DatabaseOptions): Database {
  const file = options.sqliteFile ?? 'tollgate.db';
  let location = file;
  if (file !== ':memory:') {
    mkdirSync(options.dataDir, { recursive: true });
    location = path.join(options.dataDir, file);
  }
  const connection = new SQLite(location);
  connection.pragma('journal_mode = WAL');
  connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
  connection.pragma('foreign_keys = ON');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: connection }) });
  let thread: SqliteWriteThread | undefined;
  if (options.writeThread && file !== ':memory:') {
    const { onError, workerUrl } = options.writeThread;
    thread = new SqliteWriteThread({
      file: location,
      busyTimeoutMs,
      ...(workerUrl ? { workerUrl } : {}),
      onError(error) {
        // The worker's commits checkpointed the log; without it, this connection's commits must again.
        if (connection.open) connection.pragma(`wal_autocheckpoint = ${autocheckpointFrames}`);
        onError(error);
      },
    });
    // The worker writes nearly everything, so its commits checkpoint; an operator's write on the event loop never does.
    connection.pragma('wal_autocheckpoint = 0');
  }
  let runHere: ((write: SqliteWrite) => void) | undefined;
  sqliteWriters.set(db, (write) => {
    if (thread?.running) return thread.run(write);
    return db.connection().execute(async () => {
      runHere ??= prepareSqliteWrites(connection);
      runHere(write);
    });
  });
  return {
    db,
    dialect: 'sqlite',
    location,
    ping: () => ping(db),
    async close() {
      await thread?.close();
      await db.destroy();
    },
  };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Database> {
  // Loaded only when used: the embedded default does not carry the PostgreSQL client in memory.
  const { default: pg } = await import('pg');
  const parsed = new URL(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // A per-connection search_path keeps every query of this store inside its schema.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location: `postgres://${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}${schema ? ` (schema ${schema})` : ''}`,
    ping: () => ping(db),
    close: () => db.destroy(),
  };
}

async function ping(db: Kysely<DatabaseSchema>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

function compareCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

async function migrate(db: Kysely<DatabaseSchema>, schema: string | undefined): Promise<void> {
  // Naming the schema keeps Kysely's existence checks from finding another schema's migration tables. The names
  // ("001-initial", …) sort by code unit: Kysely's default, localeCompare, loads ICU's collation data into the
  // process (~2 MB of resident memory) for a sort that needs none of it.
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    nameComparator: compareCodeUnits,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
