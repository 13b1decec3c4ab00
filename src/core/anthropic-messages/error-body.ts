/**
 * Errors in Anthropic's shape for Tollgate's `POST /v1/messages`. @anthropic-ai/sdk picks its exception class
 * from the HTTP status and reads `error.type`, `error.message` and `error.details.error_code` from the body
 * (and the same from the data of an `event: error` stream event). The seed-002 body already has `error.type`
 * and `error.message`, but its types are OpenAI's; this body speaks Anthropic's vocabulary.
 */
import type { AnthropicErrorBody } from '../../spec/anthropic.js';

/** Anthropic's error type for each status, used when the gateway's type has no direct counterpart. */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const TYPE_BY_GATEWAY_TYPE: Readonly<Record<string, string>> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  conflict_error: 'conflict_error',
  payment_required: 'billing_error',
  rate_limit_error: 'rate_limit_error',
  request_too_large: 'request_too_large',
  server_error: 'api_error',
  upstream_error: 'api_error',
  service_unavailable_error: 'overloaded_error',
  timeout_error: 'timeout_error',
  // Anthropic's own types pass through unchanged.
  billing_error: 'billing_error',
  api_error: 'api_error',
  overloaded_error: 'overloaded_error',
};

/** Maps a gateway (OpenAI-style) or Anthropic error type, or else a status, to Anthropic's error type. */
export function anthropicErrorType(type: string | undefined, status?: number): string {
  if (type !== undefined && TYPE_BY_GATEWAY_TYPE[type] !== undefined) return TYPE_BY_GATEWAY_TYPE[type];
  if (status !== undefined && TYPE_BY_STATUS[status] !== undefined) return TYPE_BY_STATUS[status];
  if (status !== undefined && status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export interface AnthropicErrorInput {
  status?: number;
  type?: string;
  message: string;
  /** Tollgate's stable code (e.g. `API_KEY_USD_SPEND_LIMIT_EXCEEDED`), exposed as `error.details.error_code`. */
  code?: string | null;
}

/**
 * Renders an error as Anthropic does: `{type: "error", error: {type, message}, request_id}`. A GatewayError
 * fits the input as is. The code travels in `error.details.error_code`, where the SDK exposes it as `errorCode`.
 */
export function anthropicErrorBody(error: AnthropicErrorInput, requestId?: string): AnthropicErrorBody {
  const body: AnthropicErrorBody = {
    type: 'error',
    error: { type: anthropicErrorType(error.type, error.status), message: error.message },
  };
  if (typeof error.code === 'string' && error.code !== '') body.error.details = { error_code: error.code };
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}
