import type { Insertable } from 'kysely';
import { isStorableText, toStorableText } from '../spec/storable-text.js';
import type { UsageLedgerTable } from './schema.js';

type LedgerRow = Insertable<UsageLedgerTable>;

/**
 * The ledger's text columns and the characters each holds: its `varchar` length in the migrations, which stay as they
 * shipped. A test reads the declared types back from both stores, so a column added or widened by a later migration
 * fails there until it is listed here.
 */
export const LEDGER_TEXT_COLUMNS = [
  ['id', 64],
  ['request_id', 200],
  ['api_key_id', 64],
  ['provider', 100],
  ['model', 300],
  ['provider_key_id', 200],
  ['request_type', 32],
  ['error_code', 100],
  ['created_at', 40],
] as const satisfies ReadonlyArray<readonly [keyof UsageLedgerTable, number]>;

/** The ledger's whole-number columns: `integer` on PostgreSQL, 32 bits (checked against the stores like the text columns). */
export const LEDGER_INTEGER_COLUMNS = ['status', 'stream', 'input_tokens', 'output_tokens', 'cached_tokens', 'cache_write_tokens', 'usage_missing', 'latency_ms'] as const satisfies ReadonlyArray<
  keyof UsageLedgerTable
>;

const INT4_MAX = 2_147_483_647;
const INT4_MIN = -2_147_483_648;

function fittedText(value: string, length: number): string {
  let text = toStorableText(value);
  if (text.length > length) {
    text = text.slice(0, length);
    // A cut between the two halves of a pair leaves the first half alone.
    if (/[\ud800-\udbff]$/.test(text)) text = `${text.slice(0, -1)}\ufffd`;
  }
  return text;
}

function storableInteger(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(INT4_MAX, Math.max(INT4_MIN, Math.round(value)));
}

/**
 * The row as every store can hold it. A row is the record of a request that was answered, so it is written even when
 * a value came from where Tollgate does not choose it (a model name or fallback a client sent, an error code or token
 * count an upstream sent) and does not fit its column: text too long is cut to the column's length, a NUL or an
 * unpaired surrogate becomes U+FFFD, a count beyond 32 bits is held at the largest, a cost that is not a number is 0.
 * Refusing the row instead would fail its whole batch, and every batch after it, on every try. Returns the row itself
 * when every value fits (the usual case, checked without copying).
 */
export function storableLedgerRow(row: LedgerRow): LedgerRow {
  let fitted: LedgerRow | undefined;
  for (const [column, length] of LEDGER_TEXT_COLUMNS) {
    const value = row[column];
    if (typeof value !== 'string' || (value.length <= length && isStorableText(value))) continue;
    fitted ??= { ...row };
    fitted[column] = fittedText(value, length);
  }
  for (const column of LEDGER_INTEGER_COLUMNS) {
    const value = row[column];
    if (typeof value !== 'number' || (Number.isInteger(value) && value <= INT4_MAX && value >= INT4_MIN)) continue;
    fitted ??= { ...row };
    fitted[column] = storableInteger(value);
  }
  if (typeof row.cost_usd === 'number' && Number.isNaN(row.cost_usd)) {
    fitted ??= { ...row };
    fitted.cost_usd = 0;
  }
  return fitted ?? row;
}
