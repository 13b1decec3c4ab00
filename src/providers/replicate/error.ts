/**
 * Replicate error replies → what Tollgate tells the client. Replicate answers errors as problem details
 * (`{title, detail, status}`, sometimes `type` and `invalid_fields`), e.g. 401 "Unauthenticated",
 * 402 when the account has no credit, 404 for an unknown model, 422 "Input validation failed", 429 throttling.
 */
import { GatewayError } from '../../spec/errors.js';
import { retryAfterMs } from '../../spec/http-headers.js';
import type { UpstreamError, UpstreamResponse } from '../../spec/provider.js';
import type { ReplicateProblem } from './wire-types.js';

/** Maps a non-2xx Replicate reply to the client-facing error (reference §8 status table). */
export function parseReplicateError(response: UpstreamResponse): UpstreamError {
  const message = readProblemMessage(response);
  const result: UpstreamError = { ...mapStatus(response.status), message };
  const delay = retryAfterMs(response.headers);
  if (delay !== undefined && (result.status === 429 || result.status === 503)) result.retryAfterMs = delay;
  return result;
}

/**
 * The same mapping as a throwable GatewayError, for replies the adapter receives itself (prediction creation
 * before a stream, polling) rather than through the core. 429 and 5xx are marked retryable.
 */
export function replicateErrorToThrow(response: UpstreamResponse): GatewayError {
  const mapped = parseReplicateError(response);
  return new GatewayError({
    status: mapped.status,
    type: mapped.type as GatewayError['type'],
    code: mapped.code ?? 'upstream_error',
    message: mapped.message,
    upstream: true,
    retryable: mapped.status === 429 || mapped.status >= 500,
    retryAfterMs: mapped.retryAfterMs,
  });
}

function readProblemMessage(response: UpstreamResponse): string {
  const text = new TextDecoder().decode(response.body).trim();
  if (text === '') return `Replicate answered HTTP ${response.status}.`;
  try {
    const problem = JSON.parse(text) as ReplicateProblem;
    if (problem && typeof problem === 'object') {
      const detail = typeof problem.detail === 'string' && problem.detail !== '' ? problem.detail : undefined;
      const title = typeof problem.title === 'string' && problem.title !== '' ? problem.title : undefined;
      if (detail !== undefined || title !== undefined) {
        const fields = Array.isArray(problem.invalid_fields) && problem.invalid_fields.length > 0 ? ` ${JSON.stringify(problem.invalid_fields)}` : '';
        return `${detail ?? title}${fields}`;
      }
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): relay a bounded excerpt of the text below.
  }
  return `Replicate answered HTTP ${response.status}: ${text.slice(0, 500)}`;
}

function mapStatus(status: number): Omit<UpstreamError, 'message'> {
  switch (status) {
    case 400:
    case 422:
      return { status: 400, type: 'invalid_request_error', code: 'invalid_request' };
    case 401:
      return { status: 401, type: 'authentication_error', code: 'invalid_api_key' };
    case 402:
      return { status: 402, type: 'payment_required', code: 'insufficient_credit' };
    case 403:
      return { status: 403, type: 'permission_error', code: 'permission_denied' };
    case 404:
      return { status: 404, type: 'not_found_error', code: 'model_not_found' };
    case 408:
    case 504:
      return { status: 504, type: 'timeout_error', code: 'upstream_timeout' };
    case 409:
      return { status: 409, type: 'conflict_error', code: 'conflict' };
    case 413:
      return { status: 413, type: 'request_too_large', code: 'request_too_large' };
    case 429:
      return { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' };
    case 503:
      return { status: 503, type: 'service_unavailable_error', code: 'service_unavailable' };
    default:
      if (status >= 500) return { status: 502, type: 'server_error', code: 'upstream_error' };
      return { status: 400, type: 'invalid_request_error', code: 'invalid_request' };
  }
}
