/**
 * Reads a successful Google reply's JSON body.
 */
import type { UpstreamResponse } from '../../spec/provider.js';
import { readReplyJson } from '../../spec/reply-json.js';

/** Parses a successful reply's JSON body; a body that is not JSON is an upstream fault (502). */
export function readGoogleJson<T>(response: UpstreamResponse, provider: string): T {
  return readReplyJson(response.body, provider) as T;
}
