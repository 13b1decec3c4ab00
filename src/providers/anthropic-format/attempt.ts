/**
 * A Messages reply read for one attempt, the same for every host of Claude's API (Anthropic's own, Vertex's publisher,
 * an Azure resource): the translation named after the model the client asked for, the usage, and whether the reply may
 * reach a native client as it is; and the decoder of its event stream.
 */
import type { ChatResult, ProviderContext, StreamDecoder } from '../../spec/provider.js';
import { anthropicUsageToTokenUsage, isSoundMessage, messageToChatCompletion, readAnthropicMessage } from './response.js';
import { createAnthropicStreamDecoder } from './stream.js';

/** The attempt facts a reply's translation takes: the client's model, the clock, the request id for a missing message id. */
type AttemptContext = Pick<ProviderContext, 'model' | 'now' | 'requestId'>;

/** Reads a non-streamed Messages reply from `upstream` (its name, for messages about an unreadable body). */
export function messageReplyToChatResult(body: Uint8Array, context: AttemptContext, upstream: string): ChatResult {
  const message = readAnthropicMessage(body, upstream);
  const completion = messageToChatCompletion(message, context.model, { created: Math.floor(context.now() / 1000), fallbackId: `msg_${context.requestId}` });
  return { completion, usage: anthropicUsageToTokenUsage(message.usage), nativeSound: isSoundMessage(message) };
}

/** The decoder of a Messages event stream; `native` for a request sent as the client wrote it. */
export function createMessageStreamDecoder(context: AttemptContext, secrets: readonly (string | undefined)[], native = false): StreamDecoder {
  return createAnthropicStreamDecoder({
    model: context.model,
    created: Math.floor(context.now() / 1000),
    fallbackId: `msg_${context.requestId}`,
    secrets,
    native,
  });
}
