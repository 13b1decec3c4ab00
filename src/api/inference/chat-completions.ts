import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { renderErrorBody } from '../../spec/error-body.js';
import { GatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import { chatRequestSchema } from '../../spec/schemas/chat-request.js';
import type { ChatResult, ChatService } from '../../core/inference/chat-service.js';
import { isUsageOnlyChunk } from '../../core/inference/chat-service.js';
import { inferenceCall, markHandled, noteFailure, noteServed, noteStreamEnd, relayFailure, releaseClientBody, servedHeaders, unreadableEvent } from './inference-call.js';
import { pumpRelay } from './pump-relay.js';
import { SseWriter } from './sse-writer.js';
import '../route-access.js';

export const inferenceBodyLimit = 32 * 1024 * 1024;

type ChatRequestBody = z.infer<typeof chatRequestSchema>;

const emptyChoices = /"choices"\s*:\s*\[\s*\]/;

/**
 * False when a chunk cannot be the usage-only one, judged from its upstream text. A decoder may forward an
 * unchanged chunk as text and parse it only when `chunk` is read; a usage-only chunk always has an empty
 * `choices` array, so content chunks reach the client without being parsed just for this check.
 */
function mayBeUsageOnly(event: { raw?: string }): boolean {
  return event.raw === undefined || emptyChoices.test(event.raw);
}


/**
 * Hands the request to the service: a completion, or a stream whose relay is still to come. Apart from the route,
 * so that the body and the call are this function's alone: a suspended handler keeps every local it has, and the
 * relay holds the handler suspended for the stream's whole length.
 */
async function openChat(chat: ChatService, request: FastifyRequest): Promise<{ result: ChatResult; wantsUsage: boolean; model: string }> {
  // Validated by the route's schema before the handler runs.
  const { fallbacks, ...rest } = request.body as ChatRequestBody;
  const body = rest as unknown as ChatCompletionRequest;
  const targets = chat.targets(body, fallbacks);
  const call = inferenceCall(request, 'chat');
  const result = await chat.complete(body, targets, call);
  return { result, wantsUsage: body.stream_options?.include_usage === true, model: body.model };
}

/** Writes a stream's chunks to the client as they arrive, then its end: `[DONE]`, or the error that ended it. */
async function relayChatStream(
  request: FastifyRequest,
  reply: FastifyReply,
  result: Extract<ChatResult, { kind: 'stream' }>,
  wantsUsage: boolean,
  model: string,
): Promise<void> {
  releaseClientBody(request);
  reply.hijack();
  const writer = new SseWriter(reply.raw);
  writer.open({ 'x-request-id': String(request.id), ...servedHeaders(result.servedBy) });
  noteServed(request, result.servedBy, { stream: true });
  let failed: string | undefined;
  const writeError = (error: GatewayError): void => {
    failed = error.code;
    writer.write(`data: ${JSON.stringify(renderErrorBody(error, String(request.id)))}\n\n`);
  };
  let answered = false;
  try {
    await pumpRelay(result.events, writer, (events) => {
      if (answered) return true;
      for (const event of events) {
        if (writer.closed) return false;
        if (event.kind === 'content-end') {
          // A client that did not ask for usage is owed nothing after the content: its answer ends here, not
          // after a follow-up read the core still makes for metering. What the follow-up yields is read and dropped.
          if (!wantsUsage) {
            answered = true;
            writer.end('data: [DONE]\n\n');
          }
          continue;
        }
        if (event.kind === 'error') {
          writeError(
            new GatewayError({
              status: event.error.status,
              type: event.error.type as GatewayError['type'],
              code: event.error.code ?? 'upstream_stream_error',
              message: event.error.message,
              provider: result.servedBy.provider,
              model,
              requestType: 'chat.completion',
              upstream: true,
            }),
          );
          return false;
        }
        // This route sends no native request, so no decoder may answer with its format's events.
        if (event.kind === 'native') throw new Error('An upstream event in another format reached /v1/chat/completions');
        let text: string;
        try {
          // Reading `chunk` parses a chunk the decoder kept as upstream text, which may turn out not to be JSON.
          if (!wantsUsage && mayBeUsageOnly(event) && isUsageOnlyChunk(event.chunk)) continue;
          text = `data: ${event.raw ?? JSON.stringify(event.chunk)}\n\n`;
        } catch (error) {
          const failure = unreadableEvent(error);
          result.fail(failure);
          writeError(failure);
          return false;
        }
        writer.write(text);
      }
      return true;
    });
  } catch (error) {
    const failure = relayFailure(request, result, error);
    if (!answered) writeError(failure);
  }
  const clientClosed = writer.closed && !answered;
  noteStreamEnd(request, result.usage(), failed ?? (clientClosed ? 'client_closed_request' : undefined));
  if (!answered) writer.end(failed || clientClosed ? undefined : 'data: [DONE]\n\n');
}

/** `POST /v1/chat/completions`, streaming and not. */
export function chatCompletionRoutes(chat: ChatService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/chat/completions',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: chatRequestSchema } },
      async (request, reply) => {
        try {
          const { result, wantsUsage, model } = await openChat(chat, request);
          if (result.kind === 'completion') {
            reply.headers(servedHeaders(result.servedBy));
            noteServed(request, result.servedBy, { stream: false, usage: result.usage });
            if (result.raw) return reply.type('application/json').send(Buffer.from(result.raw.buffer, result.raw.byteOffset, result.raw.byteLength));
            return reply.type('application/json').send(JSON.stringify(result.completion));
          }
          await relayChatStream(request, reply, result, wantsUsage, model);
        } catch (error) {
          noteFailure(request, error);
          throw error;
        } finally {
          markHandled(request);
        }
      },
    );
  };
}
