import type SQLite from 'better-sqlite3';
import type { Insertable } from 'kysely';
import type { UsageLedgerTable } from './schema.js';

export type LedgerRow = Insertable<UsageLedgerTable>;

/** The ledger's columns in the order every insert binds them, each with its PostgreSQL type for `unnest`. */
export const ledgerColumns = [
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
  ['cost_usd', 'float8'],
  ['usage_missing', 'int4'],
  ['error_code', 'text'],
  ['latency_ms', 'int4'],
  ['created_at', 'text'],
] as const satisfies ReadonlyArray<readonly [keyof UsageLedgerTable, string]>;

/**
 * The SQLite writes that requests cause (as opposed to the operator's management writes): ledger rows and the API
 * keys' last-used times. They are plain data, so that a worker thread can run them (see SqliteWriteThread).
 */
export type SqliteWrite = { kind: 'ledger'; rows: readonly LedgerRow[] } | { kind: 'last-used'; entries: ReadonlyArray<{ id: string; lastUsedAt: string }> };

/**
 * Prepares the statements of every {@link SqliteWrite} once on `connection` (preparing is most of the cost of a
 * small write) and answers a function running one write in one transaction, all or nothing. Every ledger value is
 * bound as Kysely binds it; a nullable column missing from a row is NULL, as Kysely's insert makes it. A ledger row
 * whose id is already stored is skipped: it is the same row sent again by a retry whose first answer was lost.
 */
export function prepareSqliteWrites(connection: SQLite.Database): (write: SqliteWrite) => void {
  const insertRow = connection.prepare(
    `insert into usage_ledger (${ledgerColumns.map(([name]) => name).join(', ')}) values (${ledgerColumns.map(() => '?').join(', ')}) on conflict (id) do nothing`,
  );
  const updateLastUsed = connection.prepare('update api_keys set last_used_at = ? where id = ?');
  const insertRows = connection.transaction((rows: readonly LedgerRow[]) => {
    for (const row of rows) {
      insertRow.run(
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
  const touch = connection.transaction((entries: ReadonlyArray<{ id: string; lastUsedAt: string }>) => {
    for (const entry of entries) updateLastUsed.run(entry.lastUsedAt, entry.id);
  });
  return (write) => {
    if (write.kind === 'ledger') insertRows(write.rows);
    else touch(write.entries);
  };
}
