/**
 * Mapping OpenAI-compatible error replies to what Tollgate tells its client (reference §8). Compatible
 * servers disagree on the body: OpenAI nests `{error: {...}}`, vLLM and Mistral send a flat
 * `{object: "error", message, ...}`, some answer `{message}` or `{detail}`, and proxies answer with HTML.
 */
import { retryAfterMs } from '../../spec/http-headers.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import { mapUpstreamStatus, tidyUpstreamMessage } from '../../spec/upstream-errors.js';
import type { ProviderContext, UpstreamError, UpstreamResponse } from '../../spec/provider.js';
import type { ErrorStatusOverride } from './description.js';

// Kept as part of this module's exports (adapters built on it redact their stream errors with it).
export { mapUpstreamStatus, redactSecrets };

/** The fields an upstream error body may carry, whatever its shape. */
export interface ErrorDetails {
  message?: string;
  type?: string;
  param?: string | null;
  code?: string | number | null;
}

/** Upstream error types that imply a status when a stream error carries no numeric code. */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  insufficient_quota: 429,
  server_error: 500,
  service_unavailable_error: 503,
  overloaded_error: 503,
  timeout_error: 504,
};

/** Reads an error body of any of the known shapes; unknown shapes yield no details. */
export function extractErrorDetails(payload: unknown): ErrorDetails {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return {};
  const record = payload as Record<string, unknown>;
  const nested = record.error;
  if (nested !== null && typeof nested === 'object' && !Array.isArray(nested)) return readFlat(nested as Record<string, unknown>);
  // Ollama and some proxies: {"error": "text"}.
  if (typeof nested === 'string') return { message: nested };
  // FastAPI-style servers (vLLM routes, Mistral 422s): {"detail": ...}.
  if (record.message === undefined && record.detail !== undefined) return { message: describeMessage(record.detail) };
  return readFlat(record);
}

function readFlat(record: Record<string, unknown>): ErrorDetails {
  const details: ErrorDetails = {};
  const message = describeMessage(record.message);
  if (message !== '') details.message = message;
  if (typeof record.type === 'string') details.type = record.type;
  if (typeof record.param === 'string' || record.param === null) details.param = record.param;
  if (typeof record.code === 'string' || typeof record.code === 'number' || record.code === null) details.code = record.code;
  return details;
}

/**
 * Renders a message that may be text, a FastAPI validation list (`[{loc, msg}]`, Mistral's 422) or any other
 * JSON value, as one line of text.
 */
function describeMessage(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value) && 'detail' in value) {
    return describeMessage((value as Record<string, unknown>).detail);
  }
  if (Array.isArray(value)) {
    const parts = value.map((item) => {
      if (item !== null && typeof item === 'object' && typeof (item as Record<string, unknown>).msg === 'string') {
        const entry = item as Record<string, unknown>;
        const location = Array.isArray(entry.loc) ? entry.loc.join('.') : '';
        return location === '' ? String(entry.msg) : `${location}: ${String(entry.msg)}`;
      }
      return typeof item === 'string' ? item : JSON.stringify(item);
    });
    return parts.join('; ');
  }
  return JSON.stringify(value);
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

/** Builds the mapped error from a status and whatever details the body held. */
export function toUpstreamError(
  upstreamStatus: number,
  details: ErrorDetails,
  overrides: Readonly<Record<number, ErrorStatusOverride>> = {},
): UpstreamError {
  const override = overrides[upstreamStatus];
  const mapped = override ?? mapUpstreamStatus(upstreamStatus);
  const upstreamCode = typeof details.code === 'string' && details.code !== '' ? details.code : null;
  // OpenAI's exhausted-quota 429 names itself in `type`; keep it as the code so the core can tell it from a rate limit.
  const code = override?.code ?? upstreamCode ?? (details.type === 'insufficient_quota' ? 'insufficient_quota' : null);
  const error: UpstreamError = {
    status: mapped.status,
    type: mapped.type,
    code,
    message: tidyUpstreamMessage(details.message ?? `The upstream answered with HTTP ${upstreamStatus}.`),
  };
  if (details.param !== undefined) error.param = details.param;
  return error;
}

/**
 * Maps an upstream error reply. The message keeps the upstream's text (with the key's value redacted);
 * non-JSON bodies contribute their text unless they are HTML pages.
 */
export function parseCompatibleError(
  response: UpstreamResponse,
  context: ProviderContext,
  overrides?: Readonly<Record<number, ErrorStatusOverride>>,
): UpstreamError {
  const headers = lowerCaseKeys(response.headers);
  const text = new TextDecoder().decode(response.body);
  let details: ErrorDetails = {};
  let parsed: unknown;
  let isJson = false;
  try {
    parsed = JSON.parse(text);
    isJson = true;
  } catch {
    isJson = false;
  }
  if (isJson) {
    details = extractErrorDetails(parsed);
  } else if (text.trim() !== '' && !(headers['content-type'] ?? '').includes('html') && !/^\s*</.test(text)) {
    details = { message: text };
  }
  if (details.message !== undefined) {
    details.message = redactSecrets(details.message, [context.key.value, context.key.azure?.key2]);
  }
  const error = toUpstreamError(response.status, details, overrides);
  const delay = retryAfterMs(headers, context.now());
  if (delay !== undefined) error.retryAfterMs = delay;
  return error;
}

/**
 * Maps an error that arrived inside a stream (`data: {"error": ...}`), where the HTTP status was 200. The status
 * comes from a numeric code when the server gives one (vLLM, OpenRouter), else from the error type.
 */
export function streamErrorFromPayload(
  payload: Record<string, unknown>,
  overrides?: Readonly<Record<number, ErrorStatusOverride>>,
): UpstreamError {
  const details = extractErrorDetails(payload);
  const numericCode = typeof details.code === 'number' ? details.code : Number(details.code);
  let status = 500;
  if (Number.isInteger(numericCode) && numericCode >= 400 && numericCode <= 599) {
    status = numericCode;
  } else if (details.type !== undefined && Object.hasOwn(STATUS_BY_TYPE, details.type)) {
    status = STATUS_BY_TYPE[details.type] ?? 500;
  }
  return toUpstreamError(status, { ...details, message: details.message ?? 'The upstream stream reported an error.' }, overrides);
}
