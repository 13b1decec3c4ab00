import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import type { DatabaseSchema } from './schema.js';
import { WalCheckpointer } from './wal-checkpointer.js';

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
   * SQLite on disk: checkpoint the write-ahead log on a thread of its own (see `WalCheckpointer`); default true.
   * False leaves checkpoints to SQLite, on the thread that commits.
   */
  backgroundCheckpoints?: boolean;
  /** Told when the checkpoint thread failed (the database then checkpoints as SQLite does by default). */
  onCheckpointFailure?: (error: Error) => void;
}

/** The SQLite page cache per connection, in KiB (SQLite's own default). */
export const SQLITE_CACHE_KIB = 2000;

/** The better-sqlite3 connection behind each Kysely instance this module opened on SQLite. */
const sqliteConnections = new WeakMap<Kysely<DatabaseSchema>, SQLite.Database>();

/**
 * The raw better-sqlite3 connection behind `db` when it is a SQLite database opened here, else undefined. For the
 * few hot writes that gain from a statement prepared once (Kysely's driver prepares every query anew); a caller
 * must hold Kysely's connection (`db.connection().execute`) while using it, so that it never runs inside a
 * transaction Kysely has open on the same connection.
 */
export function sqliteConnectionOf(db: Kysely<DatabaseSchema>): SQLite.Database | undefined {
  return sqliteConnections.get(db);
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
  // Said explicitly: SQLite's build here makes a database NORMAL when it opens already in WAL mode but leaves a new
  // one FULL for its first process, so the first run synced the log at every commit and later runs did not. NORMAL
  // is what WAL is meant with: a commit survives the process crashing; only the host losing power may undo the last
  // commits, and never corrupts the file.
  connection.pragma('synchronous = NORMAL');
  connection.pragma('busy_timeout = 5000');
  connection.pragma('foreign_keys = ON');
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection. The ledger's appends fill it with pages
  // nothing reads again (the hot path reads no table), so a busy gateway's RSS grew by up to 14 MB as the ledger grew.
  // SQLite's own default of 2 MB holds every page a batch of appends touches; the rare reporting query that scans
  // more reads through the OS's file cache.
  connection.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: connection }) });
  sqliteConnections.set(db, connection);
  const checkpointer =
    file !== ':memory:' && options.backgroundCheckpoints !== false
      ? new WalCheckpointer(connection, location, { onFailure: options.onCheckpointFailure })
      : undefined;
  return {
    db,
    dialect: 'sqlite',
    location,
    ping: () => ping(db),
    async close() {
      await checkpointer?.close();
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
