import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EmbeddingRequest } from '../../spec/openai.js';
import type { EmbeddingService } from '../../core/inference/embedding-service.js';
import { embeddingListText } from '../../core/inference/embedding-encoding.js';
import { inferenceCall, markHandled, noteFailure, noteServed, servedHeaders } from './inference-call.js';
import { inferenceBodyLimit } from './chat-completions.js';
import '../route-access.js';
import { modelName } from '../../spec/schemas/model-name.js';

export const embeddingRequestSchema = z.looseObject({
  model: modelName,
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
});

/** `POST /v1/embeddings` (float and base64 encodings). */
export function embeddingRoutes(embeddings: EmbeddingService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/embeddings',
      { config: { access: 'inference' }, bodyLimit: inferenceBodyLimit, schema: { tags: ['inference'], body: embeddingRequestSchema } },
      async (request, reply) => {
        try {
          const call = inferenceCall(request, 'chat');
          const { result, servedBy, vectorTexts } = await embeddings.embed(request.body as unknown as EmbeddingRequest, call);
          reply.headers(servedHeaders(servedBy));
          noteServed(request, servedBy, {
            stream: false,
            usage: { inputTokens: result.usage.prompt_tokens, outputTokens: 0, cachedInputTokens: 0 },
          });
          return reply.type('application/json').send(embeddingListText(result, vectorTexts));
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
