/**
 * The one error family of Tollgate. Domain code throws (or returns) a GatewayError;
 * the server's single error handler renders it as the seed-002 error object.
 */

/** OpenAI-style error types, the vocabulary clients' SDKs understand. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'payment_required'
  | 'rate_limit_error'
  | 'request_too_large'
  | 'server_error'
  | 'service_unavailable_error'
  | 'timeout_error'
  | 'upstream_error';

export interface GatewayErrorInit {
  status: number;
  type: ErrorType;
  /** A stable, machine-readable code such as `key_not_found` or `API_KEY_USD_SPEND_LIMIT_EXCEEDED`. */
  code: string;
  message: string;
  /** The offending field, when one is to blame. Never a secret value. */
  param?: string | null;
  provider?: string | null;
  model?: string | null;
  requestType?: string | null;
  /** Extra response headers (retry-after, x-ratelimit-*, x-should-retry). */
  headers?: Record<string, string>;
  /** Whether a gateway-level retry on another attempt may succeed. */
  retryable?: boolean;
  /** Delay the upstream asked for, in milliseconds. */
  retryAfterMs?: number;
  /** True when the error was relayed from an upstream provider rather than produced by Tollgate. */
  upstream?: boolean;
  cause?: unknown;
}

/** An error with an HTTP status and a code, rendered as the seed-002 error object. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  provider: string | null;
  model: string | null;
  requestType: string | null;
  readonly headers: Record<string, string>;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly upstream: boolean;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param ?? null;
    this.provider = init.provider ?? null;
    this.model = init.model ?? null;
    this.requestType = init.requestType ?? null;
    this.headers = init.headers ?? {};
    this.retryable = init.retryable ?? false;
    this.retryAfterMs = init.retryAfterMs;
    this.upstream = init.upstream ?? false;
  }
}

type Details = Partial<Omit<GatewayErrorInit, 'status' | 'type' | 'message'>>;

function make(status: number, type: ErrorType, defaultCode: string) {
  return (message: string, details: Details = {}): GatewayError =>
    new GatewayError({ ...details, status, type, code: details.code ?? defaultCode, message });
}

/** Constructors for the common cases; each takes a message and optional details (code, param, ...). */
export const errors = {
  badRequest: make(400, 'invalid_request_error', 'invalid_request'),
  unauthorized: make(401, 'authentication_error', 'invalid_api_key'),
  paymentRequired: make(402, 'payment_required', 'limit_exceeded'),
  forbidden: make(403, 'permission_error', 'forbidden'),
  notFound: make(404, 'not_found_error', 'not_found'),
  conflict: make(409, 'conflict_error', 'conflict'),
  tooLarge: make(413, 'request_too_large', 'request_too_large'),
  rateLimited: make(429, 'rate_limit_error', 'rate_limit_exceeded'),
  internal: make(500, 'server_error', 'internal_error'),
  badGateway: make(502, 'upstream_error', 'upstream_error'),
  unavailable: make(503, 'service_unavailable_error', 'service_unavailable'),
  timeout: make(504, 'timeout_error', 'upstream_timeout'),
  /** An upstream reply Tollgate cannot read (not JSON, members of the wrong type): the upstream's fault, not retried. */
  invalidReply: (message: string, cause?: unknown): GatewayError =>
    new GatewayError({ status: 502, type: 'upstream_error', code: 'upstream_invalid_response', message, upstream: true, cause }),
};

/** True when the value is a GatewayError (also across module copies). */
export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError || (value instanceof Error && value.name === 'GatewayError' && 'status' in value);
}
