/**
 * The headers every host of Claude's Messages API takes before its own version and credential: the provider's
 * configured extras (lower-cased, so that none can sit beside ours under another spelling), the client's betas, and
 * the content types. Each adapter sets its version and credential on the result, after the extras, so that no
 * configured header can replace them.
 */
import { addAnthropicBetaHeader } from '../../spec/anthropic-beta.js';

/** The shared part of a Messages request's headers; `accept` is the reply's content type. */
export function messagesHeaders(extraHeaders: Readonly<Record<string, string>>, accept: string, betas?: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(extraHeaders)) headers[name.toLowerCase()] = value;
  addAnthropicBetaHeader(headers, betas);
  headers['content-type'] = 'application/json';
  headers.accept = accept;
  return headers;
}
