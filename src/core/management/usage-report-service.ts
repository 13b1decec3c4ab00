import type { Kysely } from 'kysely';
import type { Clock } from '../../spec/clock.js';
import { errors } from '../../spec/errors.js';
import { isStorableText } from '../../spec/storable-text.js';
import type { DatabaseSchema } from '../../store/schema.js';
import {
  countLedgerRows,
  groupedTotals,
  listLedgerRows,
  type LedgerEntry,
  type LedgerFilter,
  type LedgerGroupColumn,
  type LedgerPosition,
} from '../../store/usage-ledger-queries.js';

export interface UsageReportServiceDependencies {
  db: Kysely<DatabaseSchema>;
  clock: Clock;
}

/** Query parameters of GET /api/logs, already checked for shape by the route. */
export interface LogQuery {
  api_key_id?: string;
  provider?: string;
  model?: string;
  request_id?: string;
  /** An HTTP status ("429"), or "success" / "error". */
  status?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
  cursor?: string;
}

/** A ledger row as GET /api/logs answers it. */
export interface LogEntryView {
  id: string;
  request_id: string;
  api_key_id: string;
  provider: string;
  model: string;
  provider_key_id: string | null;
  request_type: string;
  status: number;
  stream: boolean;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  /** Prompt tokens written to the provider's cache (Anthropic's prompt caching); part of input_tokens. */
  cache_write_tokens: number;
  cost_usd: number;
  usage_missing: boolean;
  error_code: string | null;
  latency_ms: number;
  created_at: string;
}

export interface LogPage {
  logs: LogEntryView[];
  /** Rows matching the filters (whatever the page). */
  total: number;
  limit: number;
  offset: number;
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export type UsageGroup = 'key' | 'model' | 'provider';

/** Query parameters of GET /api/usage, already checked for shape by the route. */
export interface UsageQuery {
  group_by: UsageGroup;
  bucket?: 'hour' | 'day';
  from?: string;
  to?: string;
  api_key_id?: string;
  provider?: string;
  model?: string;
}

export interface UsageSums {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

/** One group's totals; exactly one of key/model/provider is present, as chosen by group_by. */
export interface UsageRowView extends UsageSums {
  key?: string;
  model?: string;
  provider?: string;
  bucket_start?: string;
}

export interface UsageReport {
  usage: UsageRowView[];
  group_by: UsageGroup;
  bucket: 'hour' | 'day' | null;
  from: string;
  to: string;
  /** Sums over every row of `usage`. */
  totals: UsageSums;
}

/** The window GET /api/usage covers when `from` is not given: the 30 days before `to`. */
export const DEFAULT_USAGE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

const groupColumns: Record<UsageGroup, LedgerGroupColumn> = { key: 'api_key_id', model: 'model', provider: 'provider' };

const isoTimePattern = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * The moment an ISO 8601 date (`2026-11-23`, UTC midnight) or date-time with a zone (`Z` or `+02:00`) names, as
 * the ledger writes times (UTC, milliseconds); undefined for anything else, including impossible dates and times
 * without a zone, whose meaning would depend on the server's time zone.
 */
export function parseIsoTime(text: string): string | undefined {
  const match = isoTimePattern.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (calendar.getUTCMonth() !== Number(month) - 1 || calendar.getUTCDate() !== Number(day)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  const milliseconds = Date.parse(text);
  if (Number.isNaN(milliseconds)) return undefined;
  const iso = new Date(milliseconds).toISOString();
  // Years outside 0000-9999 print as ±YYYYYY, which would not compare as text with the ledger's times.
  return iso.length === 24 ? iso : undefined;
}

/** Reads the usage ledger for GET /api/logs and GET /api/usage (management only, never on the request path). */
export class UsageReportService {
  constructor(private readonly dependencies: UsageReportServiceDependencies) {}

  async logs(query: LogQuery): Promise<LogPage> {
    if (query.cursor !== undefined && query.offset > 0) {
      throw errors.badRequest('Send either offset or cursor, not both', { param: 'cursor' });
    }
    const filter: LedgerFilter = {
      ...this.range(query.from, query.to),
      apiKeyId: query.api_key_id,
      provider: query.provider,
      model: query.model,
      requestId: query.request_id,
      status: parseStatus(query.status),
    };
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const [rows, total] = await Promise.all([
      // One row more than asked tells whether a next page exists.
      listLedgerRows(this.dependencies.db, filter, { limit: query.limit + 1, offset: query.offset, after }),
      countLedgerRows(this.dependencies.db, filter),
    ]);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      logs: page.map(toLogEntry),
      total,
      limit: query.limit,
      offset: query.offset,
      next_cursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    };
  }

  async usage(query: UsageQuery): Promise<UsageReport> {
    const to = query.to === undefined ? new Date(this.dependencies.clock()).toISOString() : requireTime(query.to, 'to');
    const from = query.from === undefined ? new Date(Date.parse(to) - DEFAULT_USAGE_WINDOW_MS).toISOString() : requireTime(query.from, 'from');
    const filter: LedgerFilter = {
      ...this.range(from, to),
      apiKeyId: query.api_key_id,
      provider: query.provider,
      model: query.model,
    };
    const groups = await groupedTotals(this.dependencies.db, { filter, groupBy: groupColumns[query.group_by], bucket: query.bucket });
    groups.sort(
      (a, b) =>
        compareText(a.bucketStart ?? '', b.bucketStart ?? '') ||
        b.costUsd - a.costUsd ||
        b.requests - a.requests ||
        compareText(a.group, b.group),
    );
    const usage = groups.map((group): UsageRowView => ({
      [query.group_by]: group.group,
      ...(group.bucketStart === null ? {} : { bucket_start: group.bucketStart }),
      requests: group.requests,
      input_tokens: group.inputTokens,
      output_tokens: group.outputTokens,
      cached_tokens: group.cachedTokens,
      cache_write_tokens: group.cacheWriteTokens,
      cost_usd: group.costUsd,
    }));
    const totals: UsageSums = { requests: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, cost_usd: 0 };
    for (const row of usage) {
      totals.requests += row.requests;
      totals.input_tokens += row.input_tokens;
      totals.output_tokens += row.output_tokens;
      totals.cached_tokens += row.cached_tokens;
      totals.cache_write_tokens += row.cache_write_tokens;
      totals.cost_usd += row.cost_usd;
    }
    return { usage, group_by: query.group_by, bucket: query.bucket ?? null, from, to, totals };
  }

  /** `from` inclusive, `to` exclusive, both normalised to the ledger's form. */
  private range(from: string | undefined, to: string | undefined): Pick<LedgerFilter, 'from' | 'to'> {
    const range = {
      from: from === undefined ? undefined : requireTime(from, 'from'),
      to: to === undefined ? undefined : requireTime(to, 'to'),
    };
    if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
      throw errors.badRequest(`from (${range.from}) is after to (${range.to})`, { param: 'from' });
    }
    return range;
  }
}

function requireTime(text: string, param: string): string {
  const iso = parseIsoTime(text);
  if (iso === undefined) {
    throw errors.badRequest(`${param} must be an ISO 8601 date or date-time with a time zone, such as 2026-11-23T12:00:00Z`, { param });
  }
  return iso;
}

function parseStatus(status: string | undefined): LedgerFilter['status'] {
  if (status === undefined) return undefined;
  if (status === 'success' || status === 'error') return status;
  if (/^\d{1,3}$/.test(status)) return Number(status);
  throw errors.badRequest('status must be an HTTP status such as 429, or "success" or "error"', { param: 'status' });
}

/** Cursors are opaque to clients: base64url of the last row's time and id. */
function encodeCursor(position: LedgerPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): LedgerPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // The two parts become query parameters compared with ledger columns: a NUL there fails the query on PostgreSQL.
    if (Array.isArray(decoded) && decoded.length === 2 && isPositionPart(decoded[0]) && isPositionPart(decoded[1])) {
      return { createdAt: decoded[0], id: decoded[1] };
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw errors.badRequest('cursor is not one this server handed out (use next_cursor from a previous page)', {
    param: 'cursor',
    code: 'invalid_cursor',
  });
}

function isPositionPart(value: unknown): value is string {
  return typeof value === 'string' && isStorableText(value);
}

function toLogEntry(row: LedgerEntry): LogEntryView {
  return {
    id: row.id,
    request_id: row.request_id,
    api_key_id: row.api_key_id,
    provider: row.provider,
    model: row.model,
    provider_key_id: row.provider_key_id,
    request_type: row.request_type,
    status: row.status,
    stream: row.stream === 1,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cached_tokens: row.cached_tokens,
    cache_write_tokens: row.cache_write_tokens,
    cost_usd: row.cost_usd,
    usage_missing: row.usage_missing === 1,
    error_code: row.error_code,
    latency_ms: row.latency_ms,
    created_at: row.created_at,
  };
}

/** Code-unit order: the same in every locale and store. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
