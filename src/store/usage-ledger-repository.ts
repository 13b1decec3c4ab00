import { CompiledQuery, type Kysely } from 'kysely';
import { sqliteWritesOf } from './database.js';
import type { DatabaseSchema } from './schema.js';
import { ledgerColumns, type LedgerRow, type SqliteWrite } from './sqlite-writes.js';

export type { LedgerRow };

const columnList = ledgerColumns.map(([name]) => name).join(', ');

/**
 * The PostgreSQL insert of any number of rows: one array parameter per column, zipped back into rows by `unnest`.
 * Its text never changes, so nothing is compiled per batch (Kysely's multi-row insert built a statement of 17
 * parameters per row, ~10 µs of the gateway's CPU per row), and one statement is atomic without a transaction.
 * A row whose id is stored already is skipped, as on SQLite (a retried batch whose first commit went through).
 */
const postgresInsertRows = `insert into usage_ledger (${columnList}) select * from unnest(${ledgerColumns
  .map(([, type], index) => `$${index + 1}::${type}[]`)
  .join(', ')}) on conflict (id) do nothing`;

/** Totals of one API key's usage since a moment. */
export interface UsageTotals {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

/** Writes ledger rows (in batches) and reads the sums the counters are rebuilt from. */
export class UsageLedgerRepository {
  readonly #sqliteWrites: ((write: SqliteWrite) => Promise<void>) | undefined;

  constructor(private readonly db: Kysely<DatabaseSchema>) {
    this.#sqliteWrites = sqliteWritesOf(db);
  }

  /**
   * Inserts the rows, all or none; a row whose id is stored already is skipped, so that a batch retried after a
   * lost answer (a dropped connection, a stopped worker) is written once, and never refused forever. On SQLite, one prepared single-row INSERT run for each row inside one
   * transaction (see `sqliteWritesOf`: on the write thread when there is one): Kysely would compile a multi-row
   * statement and better-sqlite3 prepare it anew on every batch. On PostgreSQL, one statement of one array per
   * column (`postgresInsertRows`) for the whole batch, one round trip, so that a failed batch kept for the next try
   * is never half written.
   */
  async insertBatch(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.#sqliteWrites) {
      await this.#sqliteWrites({ kind: 'ledger', rows });
      return;
    }
    const columns = ledgerColumns.map(([name]) => rows.map((row) => row[name] ?? null));
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
