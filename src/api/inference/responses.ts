import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errors } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { ChatCompletion } from '../../spec/openai.js';
import { responsesRequestSchema, type ResponsesRequest } from '../../spec/schemas/responses-request.js';
import type { ChatResult, ChatService } from '../../core/inference/chat-service.js';
import type { TokenCountService } from '../../core/inference/token-count-service.js';
import {
  chatCompletionToResponse,
  createResponsesStreamEncoder,
  responseEchoOf,
  type ResponseEcho,
  responseIdFor,
  responsesRequestToChat,
  tokenCountBodyOf,
  untranslatedInputTokens,
} from '../../core/openai-responses/index.js';
import { inferenceCall, jsonSourceOf, markHandled, noteFailure, noteServed, servedHeaders } from './inference-call.js';
import { relayTranslatedStream } from './translated-stream.js';
import { inferenceBodyLimit } from './chat-completions.js';
import { sendTokenCount } from './count-tokens.js';
import '../route-access.js';

/**
 * Hands the request to the service, natively or translated: a completion, or a stream whose relay is still to come;
 * with what the answer repeats of the request. Apart from the route, so that the body and the call are this
 * function's alone (see `openChat`).
 */
async function openResponse(chat: ChatService, request: FastifyRequest, clock: Clock): Promise<{ result: ChatResult; answer: { id: string; model: string; createdAt: number; echo: ResponseEcho } }> {
  // Validated by the route's schema before the handler runs.
  const { fallbacks, ...rest } = request.body as z.infer<typeof responsesRequestSchema>;
  const body = rest as ResponsesRequest;
  const chatBody = responsesRequestToChat(body);
  const targets = chat.targets(chatBody, fallbacks);
  // OpenAI's own API takes the request as the client wrote it and answers it as written (see NativeRequest):
  // earlier reasoning items, `include` and the rest of what the chat format has no place for reach it.
  const native = {
    format: 'openai-responses' as const,
    body: rest as Record<string, unknown>,
    extraInputTokens: untranslatedInputTokens(body),
    source: jsonSourceOf(request),
  };
  const call = inferenceCall(request, 'responses', native);
  const answer = { id: responseIdFor(), model: body.model, createdAt: Math.floor(clock() / 1000), echo: responseEchoOf(body) };
  const result = await chat.complete(chatBody, targets, call);
  return { result, answer };
}

/**
 * `POST /v1/responses` (the OpenAI SDK's `responses.create` and `responses.stream`): OpenAI answers the request as
 * written, any other provider through the canonical chat path, and the answer comes back as a Response object or its
 * event stream. Tollgate keeps no responses, so a request carries its whole conversation (`previous_response_id` is
 * refused by the translation, whichever provider answers).
 */
export function responsesRoutes(chat: ChatService, tokenCounts: TokenCountService, clock: Clock): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/responses',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: responsesRequestSchema } },
      async (request, reply) => {
        try {
          const { result, answer } = await openResponse(chat, request, clock);
          if (result.kind === 'completion') {
            reply.headers(servedHeaders(result.servedBy));
            noteServed(request, result.servedBy, { stream: false, usage: result.usage });
            if (result.native) {
              if (result.nativeHeaders) reply.headers(result.nativeHeaders);
              return reply.type('application/json').send(Buffer.from(result.native.buffer, result.native.byteOffset, result.native.byteLength));
            }
            const response = chatCompletionToResponse(result.completion as ChatCompletion, { ...answer, usage: result.usage, completedAt: Math.floor(clock() / 1000) });
            return reply.type('application/json').send(JSON.stringify(response));
          }
          await relayTranslatedStream(request, reply, result, createResponsesStreamEncoder({ ...answer, clock }));
        } catch (error) {
          noteFailure(request, error);
          throw error;
        } finally {
          markHandled(request);
        }
      },
    );
    // The SDK's `responses.inputTokens.count`: counted as /v1/messages/count_tokens counts, by the provider's own
    // counter where it has one (OpenAI, Anthropic, Gemini, Vertex AI, Bedrock), else estimated.
    app.post(
      '/v1/responses/input_tokens',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: responsesRequestSchema } },
      async (request, reply) => {
        try {
          // A count asks one model: Tollgate's `fallbacks` is not for the counter.
          const { fallbacks: _fallbacks, ...rest } = request.body;
          const body = tokenCountBodyOf(responsesRequestToChat(rest as ResponsesRequest));
          // OpenAI's own counter takes the request as written (see NativeRequest); the others count its translation.
          const native = { format: 'openai-responses' as const, body: rest as Record<string, unknown> };
          const count = await tokenCounts.count(body, inferenceCall(request, 'responses'), undefined, native);
          return sendTokenCount(request, reply, count, { object: 'response.input_tokens', input_tokens: count.inputTokens });
        } catch (error) {
          noteFailure(request, error);
          throw error;
        } finally {
          markHandled(request);
        }
      },
    );
    // The SDK's retrieve, delete, cancel and input-item listing: a clear answer instead of "no route".
    const keepsNone = async (request: { params: { id: string } }) => {
      throw errors.notFound(`Tollgate keeps no responses, so there is no response '${request.params.id.slice(0, 200)}' to read, cancel or delete.`, {
        code: 'response_not_found',
      });
    };
    const byId = { config: { access: 'inference' as const }, schema: { tags: ['inference'], params: z.object({ id: z.string() }) } };
    app.get('/v1/responses/:id', byId, keepsNone);
    app.delete('/v1/responses/:id', byId, keepsNone);
    app.post('/v1/responses/:id/cancel', byId, keepsNone);
    app.get('/v1/responses/:id/input_items', byId, keepsNone);
  };
}
