/**
 * Read queries over the usage ledger for the management API: filtered pages of rows, and grouped totals.
 * Each runs unchanged on SQLite and PostgreSQL: times are ISO 8601 UTC text with milliseconds, so they compare
 * and sort as text and their hour or day is a prefix (`substr`, which both dialects have).
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { DatabaseSchema, UsageLedgerTable } from './schema.js';

/** A ledger row as read. */
export type LedgerEntry = Selectable<UsageLedgerTable>;

/** Which rows a query covers; every field is optional and they combine with AND. */
export interface LedgerFilter {
  apiKeyId?: string;
  provider?: string;
  model?: string;
  requestId?: string;
  /** An exact HTTP status, or `success` (200-399) or `error` (anything else). */
  status?: number | 'success' | 'error';
  /** Inclusive lower bound on created_at, ISO 8601 UTC with milliseconds. */
  from?: string;
  /** Exclusive upper bound on created_at, same form. */
  to?: string;
}

/** Where a page of newest-first rows continues: the last row of the previous page. */
export interface LedgerPosition {
  createdAt: string;
  id: string;
}

/** Sums over a set of ledger rows. */
export interface LedgerTotals {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  requests: number;
}

export type LedgerGroupColumn = 'api_key_id' | 'model' | 'provider';
export type LedgerBucket = 'hour' | 'day';

/** Totals of one group (and one time bucket, when bucketed). */
export interface LedgerGroupTotals extends LedgerTotals {
  group: string;
  /** Start of the UTC hour or day, ISO 8601 with milliseconds; null when not bucketed. */
  bucketStart: string | null;
}

type LedgerExpressions = ExpressionBuilder<DatabaseSchema, 'usage_ledger'>;

function conditions(builder: LedgerExpressions, filter: LedgerFilter): Array<Expression<SqlBool>> {
  const list: Array<Expression<SqlBool>> = [];
  if (filter.apiKeyId !== undefined) list.push(builder('api_key_id', '=', filter.apiKeyId));
  if (filter.provider !== undefined) list.push(builder('provider', '=', filter.provider));
  if (filter.model !== undefined) list.push(builder('model', '=', filter.model));
  if (filter.requestId !== undefined) list.push(builder('request_id', '=', filter.requestId));
  if (typeof filter.status === 'number') list.push(builder('status', '=', filter.status));
  if (filter.status === 'success') list.push(builder.and([builder('status', '>=', 200), builder('status', '<', 400)]));
  if (filter.status === 'error') list.push(builder.or([builder('status', '<', 200), builder('status', '>=', 400)]));
  if (filter.from !== undefined) list.push(builder('created_at', '>=', filter.from));
  if (filter.to !== undefined) list.push(builder('created_at', '<', filter.to));
  return list;
}

function matching(filter: LedgerFilter) {
  return (builder: LedgerExpressions) => {
    const list = conditions(builder, filter);
    return list.length === 0 ? sql<SqlBool>`1 = 1` : builder.and(list);
  };
}

/** How many rows the filter covers. */
export async function countLedgerRows(db: Kysely<DatabaseSchema>, filter: LedgerFilter): Promise<number> {
  const row = await db
    .selectFrom('usage_ledger')
    .select((builder) => builder.fn.countAll<number | string>().as('count'))
    .where(matching(filter))
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/**
 * One page of the rows the filter covers, newest first (ties broken by id, descending). `after` continues a
 * previous page from its last row and is exact even while rows are being added; `offset` skips rows.
 */
export async function listLedgerRows(
  db: Kysely<DatabaseSchema>,
  filter: LedgerFilter,
  page: { limit: number; offset?: number; after?: LedgerPosition },
): Promise<LedgerEntry[]> {
  let query = db.selectFrom('usage_ledger').selectAll().where(matching(filter));
  const after = page.after;
  if (after !== undefined) {
    query = query.where((builder) =>
      builder.or([
        builder('created_at', '<', after.createdAt),
        builder.and([builder('created_at', '=', after.createdAt), builder('id', '<', after.id)]),
      ]),
    );
  }
  query = query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit);
  if (page.offset !== undefined && page.offset > 0) query = query.offset(page.offset);
  const rows = await query.execute();
  return rows.map((row) => ({
    ...row,
    status: Number(row.status),
    stream: Number(row.stream),
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cached_tokens: Number(row.cached_tokens),
    cache_write_tokens: Number(row.cache_write_tokens),
    cost_usd: Number(row.cost_usd),
    usage_missing: Number(row.usage_missing),
    latency_ms: Number(row.latency_ms),
  }));
}

/** Length of the created_at prefix naming the UTC hour (`2026-11-23T12`) or day (`2026-11-23`). */
const bucketPrefixLength: Record<LedgerBucket, number> = { hour: 13, day: 10 };
const bucketSuffix: Record<LedgerBucket, string> = { hour: ':00:00.000Z', day: 'T00:00:00.000Z' };

/**
 * Totals of the rows the filter covers, per value of one column and, optionally, per UTC hour or day.
 * Unordered: callers sort (text order differs between the stores' collations).
 */
export async function groupedTotals(
  db: Kysely<DatabaseSchema>,
  options: { filter: LedgerFilter; groupBy: LedgerGroupColumn; bucket?: LedgerBucket },
): Promise<LedgerGroupTotals[]> {
  const { bucket, groupBy } = options;
  // A literal length (not a parameter) keeps the selected and grouped expressions identical for PostgreSQL.
  const bucketExpression = bucket === undefined ? sql<string>`''` : sql<string>`substr(created_at, 1, ${sql.lit(bucketPrefixLength[bucket])})`;
  let query = db
    .selectFrom('usage_ledger')
    .select((builder) => [
      builder.ref(groupBy).as('group_value'),
      bucketExpression.as('bucket'),
      ...sums(builder),
    ])
    .where(matching(options.filter))
    .groupBy(groupBy);
  if (bucket !== undefined) query = query.groupBy(bucketExpression);
  const rows = await query.execute();
  return rows.map((row) => ({
    group: row.group_value,
    bucketStart: bucket === undefined ? null : `${row.bucket}${bucketSuffix[bucket]}`,
    ...totalsOf(row),
  }));
}

/**
 * Totals per API key of the rows created at or after `since` (ISO 8601 UTC), for the API-keys view's trailing
 * window. Every requested key is in the answer, with zeros when it has no rows. One grouped query (per 500 keys).
 */
export async function trailingTotals(db: Kysely<DatabaseSchema>, apiKeyIds: string[], since: string): Promise<Map<string, LedgerTotals>> {
  const totals = new Map<string, LedgerTotals>();
  for (const apiKeyId of apiKeyIds) totals.set(apiKeyId, { costUsd: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, requests: 0 });
  const unique = [...totals.keys()];
  for (let start = 0; start < unique.length; start += 500) {
    const rows = await db
      .selectFrom('usage_ledger')
      .select((builder) => ['api_key_id', ...sums(builder)])
      .where('api_key_id', 'in', unique.slice(start, start + 500))
      .where('created_at', '>=', since)
      .groupBy('api_key_id')
      .execute();
    for (const row of rows) totals.set(row.api_key_id, totalsOf(row));
  }
  return totals;
}

function sums(builder: LedgerExpressions) {
  // PostgreSQL answers sums of integers and counts as bigint, which its driver hands over as strings.
  return [
    builder.fn.sum<number | string>('cost_usd').as('cost_usd'),
    builder.fn.sum<number | string>('input_tokens').as('input_tokens'),
    builder.fn.sum<number | string>('output_tokens').as('output_tokens'),
    builder.fn.sum<number | string>('cached_tokens').as('cached_tokens'),
    builder.fn.sum<number | string>('cache_write_tokens').as('cache_write_tokens'),
    builder.fn.countAll<number | string>().as('requests'),
  ] as const;
}

function totalsOf(row: {
  cost_usd: number | string | null;
  input_tokens: number | string | null;
  output_tokens: number | string | null;
  cached_tokens: number | string | null;
  cache_write_tokens: number | string | null;
  requests: number | string;
}): LedgerTotals {
  return {
    costUsd: Number(row.cost_usd ?? 0),
    inputTokens: Number(row.input_tokens ?? 0),
    outputTokens: Number(row.output_tokens ?? 0),
    cachedTokens: Number(row.cached_tokens ?? 0),
    cacheWriteTokens: Number(row.cache_write_tokens ?? 0),
    requests: Number(row.requests),
  };
}
