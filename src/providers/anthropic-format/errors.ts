/**
 * Anthropic error replies and `error` stream events → what Tollgate tells its client (reference §3, §8).
 * Anthropic answers `{type: "error", error: {type, message}, request_id}`; the edge may answer 413 or 5xx
 * with HTML or an empty body.
 */
import { retryAfterMs } from '../../spec/http-headers.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import type { UpstreamError, UpstreamResponse } from '../../spec/provider.js';

const MAX_MESSAGE_LENGTH = 1000;

/** Status and OpenAI error type for an Anthropic HTTP status. */
function mapStatus(status: number): { status: number; type: string } {
  switch (status) {
    case 400:
    case 422:
      return { status: 400, type: 'invalid_request_error' };
    case 401:
      return { status: 401, type: 'authentication_error' };
    case 402:
      return { status: 402, type: 'payment_required' };
    case 403:
      return { status: 403, type: 'permission_error' };
    case 404:
      return { status: 404, type: 'not_found_error' };
    case 408:
    case 504:
      return { status: 504, type: 'timeout_error' };
    case 409:
      return { status: 409, type: 'conflict_error' };
    case 413:
      return { status: 413, type: 'request_too_large' };
    case 429:
      return { status: 429, type: 'rate_limit_error' };
    // 529 is Anthropic's "overloaded"; 503 is what OpenAI clients know (and retry).
    case 503:
    case 529:
      return { status: 503, type: 'service_unavailable_error' };
    default:
      if (status >= 500) return { status: 502, type: 'server_error' };
      if (status >= 400) return { status, type: 'invalid_request_error' };
      // A success status handed to the error parser means the upstream broke its own contract.
      return { status: 502, type: 'server_error' };
  }
}

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

function tidy(message: string): string {
  const collapsed = message.replace(/\s+/g, ' ').trim();
  return collapsed.length > MAX_MESSAGE_LENGTH ? `${collapsed.slice(0, MAX_MESSAGE_LENGTH)}…` : collapsed;
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
  const mapped = mapStatus(upstreamStatus);
  const message = detail.message !== undefined && detail.message.trim() !== '' ? detail.message : `Anthropic answered with HTTP ${upstreamStatus}.`;
  return { status: mapped.status, type: mapped.type, code: codeFor(upstreamStatus, detail), message: tidy(redactSecrets(message, secrets)) };
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
 * Maps the payload of an `error` stream event (sent after HTTP 200, e.g. `overloaded_error`) to the error
 * Tollgate reports; the status is the one Anthropic would have answered with.
 */
export function parseAnthropicStreamError(payload: unknown, options: Pick<ParseAnthropicErrorOptions, 'secrets'> = {}): UpstreamError {
  const detail = readDetail(payload);
  const status = (detail.type !== undefined ? STATUS_BY_ANTHROPIC_TYPE[detail.type] : undefined) ?? 500;
  return build(status, detail, options.secrets ?? []);
}
