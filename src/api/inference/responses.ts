import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../spec/clock.js';
import type { ChatCompletion } from '../../spec/openai.js';
import { responsesRequestSchema, type ResponsesRequest } from '../../spec/schemas/responses-request.js';
import type { ChatService } from '../../core/inference/chat-service.js';
import { chatCompletionToResponse, createResponsesStreamEncoder, responseEchoOf, responseIdFor, responsesRequestToChat } from '../../core/openai-responses/index.js';
import { inferenceCall, markHandled, noteFailure, noteServed, noteStreamEnd, relayFailure, servedHeaders, unreadableEvent } from './inference-call.js';
import { SseWriter } from './sse-writer.js';
import { inferenceBodyLimit } from './chat-completions.js';
import '../route-access.js';

/**
 * `POST /v1/responses` (the OpenAI SDK's `responses.create` and `responses.stream`): any provider answers through
 * the canonical chat path, and the answer comes back as a Response object or its event stream. Tollgate keeps no
 * responses, so a request carries its whole conversation (`previous_response_id` is refused by the translation).
 */
export function responsesRoutes(chat: ChatService, clock: Clock): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/responses',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: responsesRequestSchema } },
      async (request, reply) => {
        try {
          const { fallbacks, ...rest } = request.body;
          const body = rest as ResponsesRequest;
          const chatBody = responsesRequestToChat(body);
          const targets = chat.targets(chatBody, fallbacks);
          const call = inferenceCall(request, 'responses');
          const answer = { id: responseIdFor(), model: body.model, createdAt: Math.floor(clock() / 1000), echo: responseEchoOf(body) };
          const result = await chat.complete(chatBody, targets, call);
          if (result.kind === 'completion') {
            reply.headers(servedHeaders(result.servedBy));
            noteServed(request, result.servedBy, { stream: false, usage: result.usage });
            const response = chatCompletionToResponse(result.completion as ChatCompletion, { ...answer, usage: result.usage, completedAt: Math.floor(clock() / 1000) });
            return reply.type('application/json').send(JSON.stringify(response));
          }
          reply.hijack();
          const writer = new SseWriter(reply.raw);
          writer.open({ 'x-request-id': String(request.id), ...servedHeaders(result.servedBy) });
          noteServed(request, result.servedBy, { stream: true });
          const encoder = createResponsesStreamEncoder({ ...answer, clock });
          let failed: string | undefined;
          try {
            relay: for await (const events of result.events) {
              for (const event of events) {
                if (writer.closed) break relay;
                // The Response closes with its usage, which comes after the content: it waits for the follow-up.
                if (event.kind === 'content-end') continue;
                if (event.kind === 'error') {
                  failed = event.error.code ?? 'upstream_stream_error';
                  writer.write(encoder.fail({ type: event.error.type, code: failed, message: event.error.message }));
                  break relay;
                }
                let text: string;
                try {
                  // Reading `chunk` parses a chunk the decoder kept as upstream text, which may turn out not to be JSON.
                  text = encoder.push(event.chunk);
                } catch (error) {
                  const failure = unreadableEvent(error);
                  failed = failure.code;
                  result.fail(failure);
                  writer.write(encoder.fail({ type: failure.type, code: failure.code, message: failure.message }));
                  break relay;
                }
                if (text && !writer.write(text)) await writer.drained();
              }
            }
          } catch (error) {
            const failure = relayFailure(request, result, error);
            failed = failure.code;
            writer.write(encoder.fail({ type: failure.type, code: failure.code, message: failure.message }));
          }
          const clientClosed = writer.closed;
          noteStreamEnd(request, result.usage(), failed ?? (clientClosed ? 'client_closed_request' : undefined));
          writer.end(failed || clientClosed ? undefined : encoder.finish(result.usage()));
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
