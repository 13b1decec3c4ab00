/**
 * Azure OpenAI error replies: the OpenAI body `{error: {code, message, param?, type?, innererror?}}`, often
 * without `type`, with the code also in the `x-ms-error-code` header.
 */
import type { ProviderContext, UpstreamError, UpstreamResponse } from '../../spec/provider.js';
import { parseCompatibleError } from '../openai-compatible/index.js';

/** The code Azure gives a prompt its content filter blocked (HTTP 400). */
export const CONTENT_FILTER_CODE = 'content_filter';

/**
 * Maps an Azure error reply. A blocked prompt keeps the code `content_filter` (clients key on it); the
 * `x-ms-error-code` header supplies the code when the body has none (or only the status number).
 */
export function parseAzureError(response: UpstreamResponse, context: ProviderContext): UpstreamError {
  const error = parseCompatibleError(response, context);
  // Azure often repeats the HTTP status as the code ("429"), which tells the client nothing more.
  if (error.code !== null && /^\d+$/.test(error.code)) error.code = null;
  if (error.code === null) {
    const headerCode = Object.entries(response.headers).find(([name]) => name.toLowerCase() === 'x-ms-error-code')?.[1];
    if (headerCode !== undefined && headerCode !== '' && !/^\d+$/.test(headerCode)) error.code = headerCode;
  }
  if (error.code === CONTENT_FILTER_CODE || innerCode(response) === 'ResponsibleAIPolicyViolation') {
    error.code = CONTENT_FILTER_CODE;
    if (error.status === 400) error.type = 'invalid_request_error';
  }
  return error;
}

function innerCode(response: UpstreamResponse): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(response.body).toString('utf8')) as { error?: { innererror?: { code?: unknown } } };
    const code = parsed.error?.innererror?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
