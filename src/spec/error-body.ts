import type { GatewayError } from './errors.js';

/** The seed-002 error object, the body of every error response. */
export interface ErrorBody {
  event_id: string;
  type: string;
  is_bifrost_error: boolean;
  status_code: number;
  error: {
    type: string;
    code: string;
    message: string;
    param: string | null;
    event_id: string;
  };
  extra_fields: {
    provider: string | null;
    model_requested: string | null;
    request_type: string | null;
  };
}

/**
 * Renders a GatewayError as the seed-002 error object. `is_bifrost_error` is true when the gateway
 * itself produced the error and false when it relays an upstream provider's error.
 */
export function renderErrorBody(error: GatewayError, eventId: string): ErrorBody {
  return {
    event_id: eventId,
    type: error.type,
    is_bifrost_error: !error.upstream,
    status_code: error.status,
    error: {
      type: error.type,
      code: error.code,
      message: error.message,
      param: error.param,
      event_id: eventId,
    },
    extra_fields: {
      provider: error.provider,
      model_requested: error.model,
      request_type: error.requestType,
    },
  };
}
