import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errors } from '../../spec/errors.js';
import type { ModelObject } from '../../spec/openai.js';
import '../route-access.js';

/** `GET /v1/models` and `GET /v1/models/{provider}/{model}` in OpenAI's list shape. */
export function modelRoutes(list: (principal: NonNullable<import('fastify').FastifyRequest['principal']>) => ModelObject[]): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/models', { config: { access: 'inference' }, schema: { tags: ['inference'] } }, async (request) => ({
      object: 'list',
      data: list(request.principal!),
    }));
    app.get('/v1/models/*', { config: { access: 'inference' }, schema: { tags: ['inference'] } }, async (request) => {
      const id = decodeURIComponent((request.params as { '*': string })['*']);
      const model = list(request.principal!).find((entry) => entry.id === id);
      if (!model) throw errors.notFound(`Model "${id}" not found`, { code: 'model_not_found', param: 'model' });
      return model;
    });
  };
}
