import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatResult } from '../../core/inference/chat-service.js';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { TokenUsage } from '../../spec/usage.js';
import { noteServed, noteStreamEnd, relayFailure, releaseClientBody, servedHeaders, unreadableEvent } from './inference-call.js';
import { pumpRelay } from './pump-relay.js';
import { SseWriter } from './sse-writer.js';

/** Turns the canonical chunks of a stream into a client format's SSE text (the Messages and Responses encoders). */
export interface StreamEncoder {
  push(chunk: ChatCompletionChunk): string;
  /** The stream's last event when it ends in an error. */
  fail(error: { type: string; code: string; message: string }): string;
  /** The stream's last events when it ends whole, given its usage. */
  finish(usage: TokenUsage | undefined): string;
  /** Notes an event of a native stream, forwarded as the upstream wrote it (for encoders that number their events). */
  forwarded?(text: string): void;
}

/**
 * Relays a stream whose client speaks another format than the canonical chunks (`/v1/messages`, `/v1/responses`):
 * each chunk goes through the encoder (a native stream's events, already in the client's format, go as they are);
 * an upstream error, a chunk that cannot be read, or a relay failure ends the stream with the encoder's error event. The encoded answer closes with the usage, which may come after the content,
 * so the relay reads to the end of the events rather than stopping at `content-end`.
 */
export async function relayTranslatedStream(
  request: FastifyRequest,
  reply: FastifyReply,
  result: Extract<ChatResult, { kind: 'stream' }>,
  encoder: StreamEncoder,
): Promise<void> {
  releaseClientBody(request);
  reply.hijack();
  const writer = new SseWriter(reply.raw);
  writer.open({ 'x-request-id': String(request.id), ...servedHeaders(result.servedBy), ...result.nativeHeaders });
  noteServed(request, result.servedBy, { stream: true });
  let failed: string | undefined;
  // Whether the encoder wrote the answer: a native stream whose start could not be forwarded is translated.
  let encoded = false;
  try {
    await pumpRelay(result.events, writer, (events) => {
      for (const event of events) {
        if (writer.closed) return false;
        if (event.kind === 'content-end') continue;
        if (event.kind === 'error') {
          failed = event.error.code ?? 'upstream_stream_error';
          writer.write(encoder.fail({ type: event.error.type, code: failed, message: event.error.message }));
          return false;
        }
        let text: string;
        try {
          // A native event is already in the client's format; a chunk the decoder kept as upstream text is parsed
          // when `chunk` is read, and may turn out not to be JSON.
          if (event.kind === 'native') {
            text = event.text;
            encoder.forwarded?.(text);
          } else {
            encoded = true;
            text = encoder.push(event.chunk);
          }
        } catch (error) {
          const failure = unreadableEvent(error);
          failed = failure.code;
          result.fail(failure);
          writer.write(encoder.fail({ type: failure.type, code: failure.code, message: failure.message }));
          return false;
        }
        if (text) writer.write(text);
      }
      return true;
    });
  } catch (error) {
    const failure = relayFailure(request, result, error);
    failed = failure.code;
    writer.write(encoder.fail({ type: failure.type, code: failure.code, message: failure.message }));
  }
  const clientClosed = writer.closed;
  noteStreamEnd(request, result.usage(), failed ?? (clientClosed ? 'client_closed_request' : undefined));
  // A native stream closed itself with the upstream's own last events.
  writer.end(failed || clientClosed || (result.native && !encoded) ? undefined : encoder.finish(result.usage()));
}
