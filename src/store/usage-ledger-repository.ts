import type SQLite from 'better-sqlite3';
import type { Insertable, Kysely } from 'kysely';
import { sqliteConnectionOf } from './database.js';
import type { DatabaseSchema, UsageLedgerTable } from './schema.js';

export type LedgerRow = Insertable<UsageLedgerTable>;

/** Rows per multi-row INSERT on PostgreSQL: 18 columns × 200 keeps far below its 65,535 parameters. */
const postgresChunkRows = 200;

/** The SQLite insert of one ledger row; `insertRowsOnSqlite` binds the values in this column order. */
const sqliteInsertRow = `insert into usage_ledger (id, request_id, api_key_id, provider, model, provider_key_id, request_type,
  status, stream, input_tokens, output_tokens, cached_tokens, cost_usd, usage_missing, error_code, latency_ms, created_at)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

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
   * Inserts the rows, all or none. On SQLite, one prepared single-row INSERT run for each row inside one
   * transaction: Kysely would compile a multi-row statement and better-sqlite3 prepare it anew on every batch, on
   * the event loop. On PostgreSQL, multi-row inserts through Kysely (one round trip per 200 rows), in a transaction
   * when there is more than one, so that a failed batch kept for the next try is never half written.
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
    if (rows.length <= postgresChunkRows) {
      await this.db.insertInto('usage_ledger').values(rows).execute();
      return;
    }
    await this.db.transaction().execute(async (transaction) => {
      for (let start = 0; start < rows.length; start += postgresChunkRows) {
        await transaction.insertInto('usage_ledger').values(rows.slice(start, start + postgresChunkRows)).execute();
      }
    });
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
    for (const row of rows) {
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
        row.cost_usd,
        row.usage_missing,
        row.error_code ?? null,
        row.latency_ms,
        row.created_at,
      );
    }
  });
}
