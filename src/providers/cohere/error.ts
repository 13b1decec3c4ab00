/**
 * Cohere error replies → what Tollgate tells the client. Cohere answers errors as JSON carrying a `message`
 * string (sometimes with an `id`), with the statuses of reference §6.1 plus 498 (invalid token) and
 * 499 (request cancelled).
 */
import { retryAfterMs } from '../../spec/http-headers.js';
import type { UpstreamError, UpstreamResponse } from '../../spec/provider.js';

const decoder = new TextDecoder();

/** Maps a non-2xx Cohere reply to the client-facing error (reference §8 status table). */
export function parseCohereError(response: UpstreamResponse): UpstreamError {
  const message = readMessage(response);
  const mapped = mapStatus(response.status, message);
  const result: UpstreamError = { ...mapped, message };
  const delay = retryAfterMs(response.headers);
  if (delay !== undefined && (result.status === 429 || result.status === 503)) result.retryAfterMs = delay;
  return result;
}

/** Reads Cohere's error message, or describes the status when the body is not the usual JSON. */
export function readMessage(response: UpstreamResponse): string {
  const text = decoder.decode(response.body).trim();
  if (text !== '') {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') {
        const record = parsed as Record<string, unknown>;
        if (typeof record.message === 'string' && record.message !== '') return record.message;
        if (typeof record.detail === 'string' && record.detail !== '') return record.detail;
      }
    } catch {
      // Not JSON (a proxy's HTML page, say): relay a bounded excerpt of the text below.
    }
    return `Cohere answered HTTP ${response.status}: ${text.slice(0, 500)}`;
  }
  return `Cohere answered HTTP ${response.status}.`;
}

function mapStatus(status: number, message: string): Omit<UpstreamError, 'message'> {
  switch (status) {
    case 400:
    case 422:
      return {
        status: 400,
        type: 'invalid_request_error',
        code: /too many tokens|context length|context window/i.test(message) ? 'context_length_exceeded' : 'invalid_request',
      };
    case 401:
    case 498:
      return { status: 401, type: 'authentication_error', code: 'invalid_api_key' };
    case 402:
      return { status: 402, type: 'payment_required', code: 'payment_required' };
    case 403:
      return { status: 403, type: 'permission_error', code: 'permission_denied' };
    case 404:
      return { status: 404, type: 'not_found_error', code: /model/i.test(message) ? 'model_not_found' : 'not_found' };
    case 408:
    case 504:
      return { status: 504, type: 'timeout_error', code: 'upstream_timeout' };
    case 413:
      return { status: 413, type: 'request_too_large', code: 'request_too_large' };
    case 429:
      return { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' };
    case 499:
      return { status: 502, type: 'server_error', code: 'upstream_cancelled' };
    case 503:
      return { status: 503, type: 'service_unavailable_error', code: 'service_unavailable' };
    default:
      if (status >= 500) return { status: 502, type: 'server_error', code: 'upstream_error' };
      return { status: 400, type: 'invalid_request_error', code: 'invalid_request' };
  }
}
