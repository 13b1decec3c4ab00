/**
 * What every adapter's error mapping shares (reference §8): the status and OpenAI error type Tollgate answers
 * with for an upstream's HTTP status, and the shape of the message it passes on.
 */

/** A status Tollgate answers with, and the OpenAI error type that goes with it. */
export interface MappedStatus {
  status: number;
  type: string;
}

const MAX_MESSAGE_LENGTH = 1000;

/**
 * The status and OpenAI error type for an upstream status. `overrides` let a provider keep a status the common
 * table folds away (Anthropic's 413 `request_too_large`, say).
 */
export function mapUpstreamStatus(status: number, overrides: Readonly<Record<number, MappedStatus>> = {}): MappedStatus {
  const override = overrides[status];
  if (override) return override;
  switch (status) {
    case 400:
    case 413:
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
    case 424:
      return { status: 502, type: 'server_error' };
    case 429:
      return { status: 429, type: 'rate_limit_error' };
    // 529 is Anthropic's "overloaded"; 503 is what OpenAI clients know (and retry).
    case 503:
    case 529:
      return { status: 503, type: 'service_unavailable_error' };
    default:
      if (status >= 500) return { status: 502, type: 'server_error' };
      if (status >= 400) return { status, type: 'invalid_request_error' };
      // A success status handed to an error parser means the upstream broke its own contract.
      return { status: 502, type: 'server_error' };
  }
}

/** An upstream's message as Tollgate passes it on: whitespace collapsed, at most 1,000 characters. */
export function tidyUpstreamMessage(message: string): string {
  const collapsed = message.replace(/\s+/g, ' ').trim();
  return collapsed.length > MAX_MESSAGE_LENGTH ? `${collapsed.slice(0, MAX_MESSAGE_LENGTH)}…` : collapsed;
}
