/**
 * Reads a successful Google reply's JSON body.
 */
import { errors } from '../../spec/errors.js';
import type { UpstreamResponse } from '../../spec/provider.js';

/** Parses a successful reply's JSON body; a body that is not JSON is an upstream fault (502). */
export function readGoogleJson<T>(response: UpstreamResponse, provider: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(response.body)) as T;
  } catch (cause) {
    throw errors.invalidReply(`${provider} answered with a body that is not JSON.`, cause);
  }
}
