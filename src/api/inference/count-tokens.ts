import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenCount, TokenCountService } from '../../core/inference/token-count-service.js';
import { countTokensRequestSchema } from '../../spec/schemas/messages-request.js';
import { readAnthropicBetas } from '../../spec/anthropic-beta.js';
import { inferenceBodyLimit } from './chat-completions.js';
import { inferenceCall, markHandled, noteFailure, noteServed, servedHeaders } from './inference-call.js';
import '../route-access.js';

/**
 * `POST /v1/messages/count_tokens` (the Anthropic SDK's `messages.countTokens`): `{ input_tokens }`, from the
 * provider's own counter where it has one, else estimated; `x-tollgate-token-count` says which (`provider`,
 * `estimated`).
 */
export function countTokensRoutes(tokenCounts: TokenCountService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/messages/count_tokens',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: countTokensRequestSchema } },
      async (request, reply) => {
        try {
          // A count asks one model: Tollgate's `fallbacks` is not for the counter.
          const { fallbacks: _fallbacks, ...body } = request.body as typeof request.body & { fallbacks?: unknown };
          const betas = readAnthropicBetas(request.headers['anthropic-beta'], 'anthropic-beta');
          const count = await tokenCounts.count(body, inferenceCall(request, 'messages'), betas);
          return sendTokenCount(request, reply, count, { input_tokens: count.inputTokens });
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

/** Answers a count in the client's format, saying who counted (the provider's headers, `x-tollgate-token-count`). */
export function sendTokenCount(request: FastifyRequest, reply: FastifyReply, count: TokenCount, answer: object): FastifyReply {
  if (count.servedBy) {
    reply.headers(servedHeaders(count.servedBy));
    noteServed(request, count.servedBy, { stream: false });
  }
  reply.header('x-tollgate-token-count', count.estimated ? 'estimated' : 'provider');
  return reply.type('application/json').send(JSON.stringify(answer));
}
