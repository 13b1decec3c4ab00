/**
 * Reading an upstream's successful reply body: every provider's translation parses JSON the same way, and treats a
 * body it cannot read as the upstream's fault (502 `upstream_invalid_response`), not Tollgate's.
 */
import { errors } from './errors.js';
import { isRecord } from './json-value.js';
import { isTokenCount } from './usage.js';

// Decoding without `stream: true` keeps no state between calls, so one decoder serves every body.
const utf8 = new TextDecoder('utf-8');

/** The body parsed as JSON; an invalid-reply error naming `upstream` when it is not JSON. */
export function readReplyJson(body: Uint8Array, upstream: string): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch (cause) {
    throw errors.invalidReply(`${upstream} answered with a body that is not JSON.`, cause);
  }
}

/**
 * The count in `member` of a token-count reply (Anthropic's `input_tokens`, Google's `totalTokens`, Bedrock's
 * `inputTokens`); an invalid-reply error for a body that is not JSON or a member that is not a whole, non-negative
 * count.
 */
export function readTokenCountReply(body: Uint8Array, member: string, upstream: string): number {
  const reply = readReplyJson(body, upstream);
  const count = isRecord(reply) ? reply[member] : undefined;
  if (!isTokenCount(count)) throw errors.invalidReply(`${upstream} answered the token count without a whole, non-negative ${member}.`);
  return count;
}
