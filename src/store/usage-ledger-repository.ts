import type SQLite from 'better-sqlite3';
import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import { sqliteConnectionOf } from './database.js';
import type { DatabaseSchema, UsageLedgerTable } from './schema.js';
import { storableLedgerRow } from './storable-ledger-row.js';

export type LedgerRow = Insertable<UsageLedgerTable>;

/** The ledger's columns in the order both inserts bind them, each with its PostgreSQL type for `unnest`. */
const ledgerColumns = [
  ['id', 'text'],
  ['request_id', 'text'],
  ['api_key_id', 'text'],
  ['provider', 'text'],
  ['model', 'text'],
  ['provider_key_id', 'text'],
  ['request_type', 'text'],
  ['status', 'int4'],
  ['stream', 'int4'],
  ['input_tokens', 'int4'],
  ['output_tokens', 'int4'],
  ['cached_tokens', 'int4'],
  ['cache_write_tokens', 'int4'],
  ['cost_usd', 'float8'],
  ['usage_missing', 'int4'],
  ['error_code', 'text'],
  ['latency_ms', 'int4'],
  ['created_at', 'text'],
] as const satisfies ReadonlyArray<readonly [keyof UsageLedgerTable, string]>;
const columnList = ledgerColumns.map(([name]) => name).join(', ');

/**
 * The SQLite insert of one ledger row; `prepareSqliteInsert` binds the values in `ledgerColumns`' order. A row whose
 * id is stored already is skipped (see `insertBatch`).
 */
const sqliteInsertRow = `insert into usage_ledger (${columnList}) values (${ledgerColumns.map(() => '?').join(', ')}) on conflict (id) do nothing`;

/**
 * The PostgreSQL insert of any number of rows: one array parameter per column, zipped back into rows by `unnest`.
 * Its text never changes, so nothing is compiled per batch (Kysely's multi-row insert built a statement of 17
 * parameters per row, ~10 µs of the gateway's CPU per row), and one statement is atomic without a transaction.
 * A row whose id is stored already is skipped, as on SQLite (see `insertBatch`).
 */
const postgresInsertRows = `insert into usage_ledger (${columnList}) select * from unnest(${ledgerColumns
  .map(([, type], index) => `$${index + 1}::${type}[]`)
  .join(', ')}) on conflict (id) do nothing`;

/**
 * Whether a failed write was refused for a value a row holds (SQLite's constraint and type errors, PostgreSQL's data
 * exceptions and integrity violations) rather than for the store's state (unreachable, a missing table, a timeout):
 * the same rows sent again would fail again. `storableLedgerRow` makes the values Tollgate knows of fit; this names
 * what is left, so that the writer can set one row aside instead of retrying its batch forever.
 */
export function isRowRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code.startsWith('SQLITE_')) return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG' || code === 'SQLITE_RANGE';
  return /^(22|23)[0-9A-Z]{3}$/.test(code);
}

/** Totals of one API key's usage since a moment. */
export interface UsageTotals {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

/** Writes ledger rows (in batches) and reads the sums the counters are rebuilt from. */
export class UsageLedgerRepository {
  readonly #sqlite: SQLite.Database | undefined;
  /** Prepared on first use, then kept: preparing is most of the cost of a write on SQLite. */
  #insertRowsOnSqlite: ((rows: readonly LedgerRow[]) => void) | undefined;

  constructor(private readonly db: Kysely<DatabaseSchema>) {
    this.#sqlite = sqliteConnectionOf(db);
  }

  /**
   * Inserts the rows, all or none, each as every store can hold it (`storableLedgerRow`). A row whose id is stored
   * already is skipped: ids are unique per request, so it is the same row, sent again because the answer to a write
   * that went through was lost (a dropped connection); refusing it would fail that batch, and every row the writer
   * queues behind it, on every try. On SQLite, one prepared single-row INSERT run for each row inside one
   * transaction: Kysely would compile a multi-row statement and better-sqlite3 prepare it anew on every batch, on
   * the event loop. On PostgreSQL, one statement of one array per column (`postgresInsertRows`) for the whole batch,
   * one round trip, so that a failed batch kept for the next try is never half written.
   */
  async insertBatch(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    const sqlite = this.#sqlite;
    if (sqlite) {
      // Holding Kysely's connection waits out any transaction Kysely has open on it (the writes of last-used times).
      await this.db.connection().execute(async () => {
        this.#insertRowsOnSqlite ??= prepareSqliteInsert(sqlite);
        this.#insertRowsOnSqlite(rows);
      });
      return;
    }
    const storable = rows.map(storableLedgerRow);
    const columns = ledgerColumns.map(([name]) => storable.map((row) => row[name] ?? null));
    await this.db.executeQuery(CompiledQuery.raw(postgresInsertRows, columns));
  }

  /** Sums per API key of the rows created at or after `since` (ISO), for the given keys. */
  async totalsSince(apiKeyIds: string[], since: (apiKeyId: string) => string): Promise<Map<string, UsageTotals>> {
    const totals = new Map<string, UsageTotals>();
    for (const apiKeyId of apiKeyIds) {
      const row = await this.db
        .selectFrom('usage_ledger')
        .select((builder) => [
          builder.fn.coalesce(builder.fn.sum<number>('cost_usd'), builder.lit(0)).as('cost'),
          builder.fn.coalesce(builder.fn.sum<number>('input_tokens'), builder.lit(0)).as('input'),
          builder.fn.coalesce(builder.fn.sum<number>('output_tokens'), builder.lit(0)).as('output'),
          builder.fn.countAll<number>().as('requests'),
        ])
        .where('api_key_id', '=', apiKeyId)
        .where('created_at', '>=', since(apiKeyId))
        .executeTakeFirst();
      totals.set(apiKeyId, {
        costUsd: Number(row?.cost ?? 0),
        inputTokens: Number(row?.input ?? 0),
        outputTokens: Number(row?.output ?? 0),
        requests: Number(row?.requests ?? 0),
      });
    }
    return totals;
  }
}

/**
 * One transaction inserting rows with a statement prepared once. Every value is bound as Kysely binds it, as is;
 * a column missing from a row (the nullable ones may be) is NULL, as Kysely's insert makes it.
 */
function prepareSqliteInsert(sqlite: SQLite.Database): (rows: readonly LedgerRow[]) => void {
  const statement = sqlite.prepare(sqliteInsertRow);
  return sqlite.transaction((rows: readonly LedgerRow[]) => {
    for (const given of rows) {
      const row = storableLedgerRow(given);
      statement.run(
        row.id,
        row.request_id,
        row.api_key_id,
        row.provider,
        row.model,
        row.provider_key_id ?? null,
        row.request_type,
        row.status,
        row.stream,
        row.input_tokens,
        row.output_tokens,
        row.cached_tokens,
        row.cache_write_tokens,
        row.cost_usd,
        row.usage_missing,
        row.error_code ?? null,
        row.latency_ms,
        row.created_at,
      );
    }
  });
}
