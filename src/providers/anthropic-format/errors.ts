/**
 * Anthropic error replies and `error` stream events → what Tollgate tells its client (reference §3, §8).
 * Anthropic answers `{type: "error", error: {type, message}, request_id}`; the edge may answer 413 or 5xx
 * with HTML or an empty body.
 */
import { retryAfterMs } from '../../spec/http-headers.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import { mapUpstreamStatus, tidyUpstreamMessage } from '../../spec/upstream-errors.js';
import type { UpstreamError, UpstreamResponse } from '../../spec/provider.js';

/** Anthropic's 413 keeps its own type (the common table folds 413 into a 400). */
const ANTHROPIC_STATUS_OVERRIDES = { 413: { status: 413, type: 'request_too_large' } } as const;

/** The HTTP status Anthropic uses for each error type; stream errors carry only the type. */
const STATUS_BY_ANTHROPIC_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

interface ErrorDetail {
  type?: string;
  message?: string;
  errorCode?: string;
}

function readDetail(payload: unknown): ErrorDetail {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return {};
  const record = payload as Record<string, unknown>;
  const inner = record.error !== null && typeof record.error === 'object' ? (record.error as Record<string, unknown>) : record;
  const detail: ErrorDetail = {};
  if (typeof inner.type === 'string' && inner.type !== 'error') detail.type = inner.type;
  if (typeof inner.message === 'string') detail.message = inner.message;
  const details = inner.details as Record<string, unknown> | undefined | null;
  if (details !== null && typeof details === 'object' && typeof details.error_code === 'string') detail.errorCode = details.error_code;
  return detail;
}

/**
 * A machine-readable code: OpenAI's well-known codes where the case is clear (clients branch on them), else
 * Anthropic's own error code or type, so the cause stays visible (e.g. `overloaded_error`, `billing_error`).
 */
function codeFor(upstreamStatus: number, detail: ErrorDetail): string | null {
  const message = detail.message ?? '';
  if (upstreamStatus === 401 || detail.type === 'authentication_error') return 'invalid_api_key';
  if (detail.type === 'not_found_error' && /^model:/i.test(message)) return 'model_not_found';
  if (detail.type === 'invalid_request_error' && /prompt is too long|context window|too many tokens/i.test(message)) {
    return 'context_length_exceeded';
  }
  return detail.errorCode ?? detail.type ?? null;
}

function build(upstreamStatus: number, detail: ErrorDetail, secrets: readonly (string | undefined)[]): UpstreamError {
  const mapped = mapUpstreamStatus(upstreamStatus, ANTHROPIC_STATUS_OVERRIDES);
  const message = detail.message !== undefined && detail.message.trim() !== '' ? detail.message : `Anthropic answered with HTTP ${upstreamStatus}.`;
  return { status: mapped.status, type: mapped.type, code: codeFor(upstreamStatus, detail), message: tidyUpstreamMessage(redactSecrets(message, secrets)) };
}

export interface ParseAnthropicErrorOptions {
  /** Values that must never appear in a message (the key's secret). */
  secrets?: readonly (string | undefined)[];
  /** Milliseconds since the epoch, for HTTP-date `retry-after` values. */
  now?: number;
}

/** Maps an Anthropic error reply (any status) to the error Tollgate reports, with the upstream's wait hint. */
export function parseAnthropicError(response: UpstreamResponse, options: ParseAnthropicErrorOptions = {}): UpstreamError {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) headers[name.toLowerCase()] = value;
  const text = new TextDecoder().decode(response.body);
  let detail: ErrorDetail = {};
  try {
    detail = readDetail(JSON.parse(text));
  } catch {
    // Edge proxies answer with text or HTML; text is worth keeping, a page is not.
    const isHtml = (headers['content-type'] ?? '').includes('html') || /^\s*</.test(text);
    if (text.trim() !== '' && !isHtml) detail = { message: text };
  }
  const error = build(response.status, detail, options.secrets ?? []);
  const delay = retryAfterMs(headers, options.now);
  if (delay !== undefined) error.retryAfterMs = delay;
  return error;
}

/**
 * True when an error reply's body is Anthropic's `{type: "error", error: {type, message}}`, for a cloud that answers
 * in its own shape before the request reaches Claude (Google's on Vertex, Azure's on Foundry) and in Anthropic's after.
 */
export function isAnthropicErrorBody(body: Uint8Array): boolean {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { type?: unknown; error?: { type?: unknown } } | null;
    return parsed?.type === 'error' || typeof parsed?.error?.type === 'string';
  } catch {
    return false;
  }
}

/**
 * Maps the payload of an `error` stream event (sent after HTTP 200, e.g. `overloaded_error`) to the error
 * Tollgate reports; the status is the one Anthropic would have answered with.
 */
export function parseAnthropicStreamError(payload: unknown, options: Pick<ParseAnthropicErrorOptions, 'secrets'> = {}): UpstreamError {
  const detail = readDetail(payload);
  // Own members only: a type such as "constructor" must not find Object's.
  const status = (detail.type !== undefined && Object.hasOwn(STATUS_BY_ANTHROPIC_TYPE, detail.type) ? STATUS_BY_ANTHROPIC_TYPE[detail.type] : undefined) ?? 500;
  return build(status, detail, options.secrets ?? []);
}
