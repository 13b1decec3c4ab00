/**
 * Google error bodies (`{error:{code, message, status, details}}`, shared by the Gemini API and Vertex AI)
 * mapped to what Tollgate tells the client (reference §5.5 and §8).
 */
import { retryAfterMs } from '../../spec/http-headers.js';
import { redactSecrets } from '../../spec/redact-secrets.js';
import type { UpstreamError, UpstreamResponse } from '../../spec/provider.js';
import type { GoogleErrorBody } from './types.js';

interface Mapped {
  status: number;
  type: string;
  code: string;
}

function mapStatus(status: number): Mapped {
  if (status === 400 || status === 422) return { status: 400, type: 'invalid_request_error', code: 'invalid_request' };
  if (status === 401) return { status: 401, type: 'authentication_error', code: 'invalid_api_key' };
  if (status === 403) return { status: 403, type: 'permission_error', code: 'permission_denied' };
  if (status === 404) return { status: 404, type: 'not_found_error', code: 'model_not_found' };
  if (status === 408 || status === 504) return { status: 504, type: 'timeout_error', code: 'upstream_timeout' };
  if (status === 409) return { status: 409, type: 'conflict_error', code: 'conflict' };
  if (status === 413) return { status: 413, type: 'request_too_large', code: 'request_too_large' };
  if (status === 429) return { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' };
  if (status === 503) return { status: 503, type: 'service_unavailable_error', code: 'service_unavailable' };
  if (status >= 500 || status === 424) return { status: 502, type: 'server_error', code: 'upstream_error' };
  return { status: status >= 400 ? status : 502, type: 'invalid_request_error', code: 'invalid_request' };
}

/** Finds the `{error:{...}}` object in a parsed body (streamed errors may come wrapped in an array). */
export function findGoogleError(body: unknown): GoogleErrorBody['error'] | undefined {
  const candidate = Array.isArray(body) ? body[0] : body;
  if (candidate === null || typeof candidate !== 'object') return undefined;
  const error = (candidate as Record<string, unknown>).error;
  return error !== null && typeof error === 'object' ? (error as GoogleErrorBody['error']) : undefined;
}

/** Reads `RetryInfo.retryDelay` ("30s", "1.5s") from the error details, in milliseconds. */
function retryDelayFromDetails(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const delay = (detail as Record<string, unknown> | null)?.retryDelay;
    if (typeof delay !== 'string') continue;
    const seconds = Number(delay.replace(/s$/, ''));
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  }
  return undefined;
}

/** True when Google reports an invalid API key, which the Gemini API answers with 400, not 401. */
function isInvalidApiKey(error: GoogleErrorBody['error']): boolean {
  const reasons = (error.details ?? []).map((detail) => detail.reason);
  return reasons.includes('API_KEY_INVALID') || /API key not valid/i.test(error.message ?? '');
}

export interface GoogleErrorOptions {
  headers?: Record<string, string>;
  /** Milliseconds since the epoch, for HTTP-date `retry-after` values. */
  now?: number;
  /** Values that must never appear in a message (the key's secret, a bearer token). */
  secrets?: readonly (string | undefined)[];
}

/**
 * Maps a Google error (already parsed) given the HTTP status it came with. Mid-stream errors carry no HTTP
 * status of their own; pass 0 and the body's `code` is used.
 */
export function googleErrorToUpstreamError(body: unknown, httpStatus: number, options: GoogleErrorOptions = {}): UpstreamError {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  const error = findGoogleError(body);
  const status = httpStatus >= 400 ? httpStatus : typeof error?.code === 'number' ? error.code : 502;
  const mapped = error && status === 400 && isInvalidApiKey(error)
    ? { status: 401, type: 'authentication_error', code: 'invalid_api_key' }
    : mapStatus(status);
  const result: UpstreamError = {
    ...mapped,
    message: redactSecrets(error?.message || `The upstream answered HTTP ${status}${error?.status ? ` (${error.status})` : ''}.`, options.secrets ?? []),
  };
  const delay = retryAfterMs(headers, options.now ?? Date.now()) ?? retryDelayFromDetails(error?.details);
  if (delay !== undefined) result.retryAfterMs = delay;
  return result;
}

/** Maps a Google error reply (any body; non-JSON bodies keep their status with a generic message). */
export function parseGoogleError(response: UpstreamResponse, options: Omit<GoogleErrorOptions, 'headers'> = {}): UpstreamError {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    body = undefined;
  }
  return googleErrorToUpstreamError(body, response.status, { ...options, headers: response.headers });
}
