import { errors, type GatewayError } from '../../spec/errors.js';

/**
 * The most bytes Tollgate holds of one upstream reply read whole (a non-streamed answer, an error's body). The
 * largest real replies stay far below it (an embeddings reply of 2,048 inputs of 3,072 floats as JSON text is about
 * 130 MB); without a bound, an upstream that does not stop (a base URL pointing at a file server, a broken proxy)
 * would fill the gateway's memory and end every request it serves. Streams are relayed as they come and are not
 * held whole.
 */
export const MAX_UPSTREAM_REPLY_BYTES = 256 * 1024 * 1024;

/** The error of a reply beyond the bound: the upstream's fault, and not worth a retry (it would be as long again). */
export function replyTooLarge(maxBytes: number): GatewayError {
  return errors.badGateway(`The upstream's reply is longer than the ${maxBytes} bytes Tollgate reads of one reply.`, {
    code: 'upstream_response_too_large',
    upstream: true,
  });
}
