import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseIsoTime, type UsageReportService } from '../../core/management/usage-report-service.js';
import { storableText } from '../../spec/storable-text.js';
import '../route-access.js';

const config = { access: 'admin' as const };
const tags = ['usage'];

const isoTime = z
  .string()
  .refine((text) => parseIsoTime(text) !== undefined, 'must be an ISO 8601 date (2026-11-23) or date-time with a time zone (2026-11-23T12:00:00Z)');
/** Compared with ledger columns, so held to what a column can hold (PostgreSQL refuses a NUL in a query parameter). */
const filterValue = storableText(z.string().min(1).max(300));

const logsQuerySchema = z
  .object({
    api_key_id: filterValue.optional(),
    provider: filterValue.optional(),
    model: filterValue.optional(),
    request_id: filterValue.optional(),
    status: z
      .string()
      .regex(/^(success|error|\d{1,3})$/, 'must be an HTTP status such as 429, or "success" (200-399) or "error"')
      .optional(),
    /** Inclusive. */
    from: isoTime.optional(),
    /** Exclusive. */
    to: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    offset: z.coerce.number().int().min(0).max(100_000_000).default(0),
    /** `next_cursor` of the previous page; exact paging while rows are being added. */
    cursor: z.string().min(1).max(1000).optional(),
  })
  .strict();

const logEntrySchema = z
  .object({
    id: z.string(),
    request_id: z.string(),
    api_key_id: z.string(),
    provider: z.string(),
    model: z.string(),
    provider_key_id: z.string().nullable(),
    request_type: z.string(),
    status: z.number(),
    stream: z.boolean(),
    input_tokens: z.number(),
    output_tokens: z.number(),
    cached_tokens: z.number(),
    /** Prompt tokens written to the provider's cache (Anthropic's prompt caching); part of input_tokens. */
    cache_write_tokens: z.number(),
    cost_usd: z.number(),
    usage_missing: z.boolean(),
    error_code: z.string().nullable(),
    latency_ms: z.number(),
    created_at: z.string(),
  })
  .meta({ id: 'LogEntry' });

const logListSchema = z
  .object({
    logs: z.array(logEntrySchema),
    total: z.number(),
    limit: z.number(),
    offset: z.number(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'LogList' });

const usageQuerySchema = z
  .object({
    group_by: z.enum(['key', 'model', 'provider']).default('key'),
    bucket: z.enum(['hour', 'day']).optional(),
    /** Inclusive; default 30 days before `to`. */
    from: isoTime.optional(),
    /** Exclusive; default now. */
    to: isoTime.optional(),
    api_key_id: filterValue.optional(),
    provider: filterValue.optional(),
    model: filterValue.optional(),
  })
  .strict();

const usageSumsShape = {
  requests: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cached_tokens: z.number(),
  cache_write_tokens: z.number(),
  cost_usd: z.number(),
};

const usageRowSchema = z
  .object({
    key: z.string().optional(),
    model: z.string().optional(),
    provider: z.string().optional(),
    bucket_start: z.string().optional(),
    ...usageSumsShape,
  })
  .meta({ id: 'UsageRow' });

const usageReportSchema = z
  .object({
    usage: z.array(usageRowSchema),
    group_by: z.enum(['key', 'model', 'provider']),
    bucket: z.enum(['hour', 'day']).nullable(),
    from: z.string(),
    to: z.string(),
    totals: z.object(usageSumsShape),
  })
  .meta({ id: 'UsageReport' });

/** `GET /api/logs` (ledger rows, newest first) and `GET /api/usage` (totals per key, model or provider). */
export function usageRoutes(reports: UsageReportService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/logs',
      { config, schema: { tags, querystring: logsQuerySchema, response: { 200: logListSchema } } },
      async (request) => reports.logs(request.query),
    );

    app.get(
      '/api/usage',
      { config, schema: { tags, querystring: usageQuerySchema, response: { 200: usageReportSchema } } },
      async (request) => reports.usage(request.query),
    );
  };
}
