/**
 * Maps Bedrock errors (HTTP replies and event-stream exception frames) to what Tollgate tells the client.
 */
import { retryAfterMs } from '../../spec/http-headers.js';
import type { UpstreamError, UpstreamResponse } from '../../spec/provider.js';

interface Mapping {
  status: number;
  type: string;
  code: string;
}

/** Keyed by the lower-cased error name, so header names (`ThrottlingException`) and stream names (`throttlingException`) share it. */
const BY_ERROR_NAME: Record<string, Mapping> = {
  validationexception: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  servicequotaexceededexception: { status: 400, type: 'invalid_request_error', code: 'service_quota_exceeded' },
  accessdeniedexception: { status: 403, type: 'permission_error', code: 'access_denied' },
  resourcenotfoundexception: { status: 404, type: 'not_found_error', code: 'model_not_found' },
  modeltimeoutexception: { status: 504, type: 'timeout_error', code: 'upstream_timeout' },
  modelerrorexception: { status: 502, type: 'server_error', code: 'model_error' },
  modelstreamerrorexception: { status: 502, type: 'server_error', code: 'model_stream_error' },
  throttlingexception: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  modelnotreadyexception: { status: 429, type: 'rate_limit_error', code: 'model_not_ready' },
  internalserverexception: { status: 502, type: 'server_error', code: 'upstream_server_error' },
  serviceunavailableexception: { status: 503, type: 'service_unavailable_error', code: 'service_unavailable' },
  // Credential problems: the gateway's provider key is at fault, reported like any upstream 401.
  unrecognizedclientexception: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  invalidsignatureexception: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  incompletesignature: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  incompletesignatureexception: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  missingauthenticationtokenexception: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  expiredtokenexception: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
};

/** Bedrock's wording when the prompt does not fit the model's context window. */
const CONTEXT_LENGTH_PATTERN = /too long|context (length|window)|maximum context|too many (input )?tokens/i;

/** Maps an error by its Bedrock name (header `x-amzn-errortype` or `:exception-type`) and HTTP status. */
export function mapBedrockError(name: string | undefined, httpStatus: number, message: string): UpstreamError {
  const mapping = name === undefined ? undefined : BY_ERROR_NAME[name.toLowerCase()];
  const { status, type, code } = mapping ?? mapByStatus(httpStatus);
  const contextLength = status === 400 && CONTEXT_LENGTH_PATTERN.test(message);
  return { status, type, code: contextLength ? 'context_length_exceeded' : code, message, param: null };
}

/** Maps an error reply of the Bedrock runtime (JSON `{message}`, name in `x-amzn-errortype`). */
export function parseBedrockError(response: UpstreamResponse): UpstreamError {
  const headers = lowerCaseKeys(response.headers);
  const text = Buffer.from(response.body).toString('utf8');
  let message = '';
  let bodyType: string | undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const value = parsed.message ?? parsed.Message;
    if (typeof value === 'string') message = value;
    if (typeof parsed.__type === 'string') bodyType = parsed.__type;
  } catch {
    message = text.slice(0, 500);
  }
  // The header reads like `ThrottlingException:http://internal.amazon.com/coral/...`; only the name matters.
  const rawName = headers['x-amzn-errortype'] ?? bodyType;
  const name = rawName?.split(':')[0]?.split('#').pop()?.trim() || undefined;
  if (message === '') message = name ?? `Bedrock answered with HTTP ${response.status}.`;
  const error = mapBedrockError(name, response.status, message);
  const delay = retryAfterMs(headers);
  if (delay !== undefined) error.retryAfterMs = delay;
  return error;
}

function mapByStatus(status: number): Mapping {
  if (status === 400 || status === 413 || status === 422) return { status: 400, type: 'invalid_request_error', code: 'invalid_request' };
  if (status === 401) return { status: 401, type: 'authentication_error', code: 'invalid_api_key' };
  if (status === 403) return { status: 403, type: 'permission_error', code: 'access_denied' };
  if (status === 404) return { status: 404, type: 'not_found_error', code: 'model_not_found' };
  if (status === 408 || status === 504) return { status: 504, type: 'timeout_error', code: 'upstream_timeout' };
  if (status === 429) return { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' };
  if (status === 503) return { status: 503, type: 'service_unavailable_error', code: 'service_unavailable' };
  if (status === 424) return { status: 502, type: 'server_error', code: 'model_error' };
  if (status >= 400 && status < 500) return { status: 400, type: 'invalid_request_error', code: 'invalid_request' };
  return { status: 502, type: 'server_error', code: 'upstream_server_error' };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}
