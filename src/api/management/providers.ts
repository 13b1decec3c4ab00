import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  createProviderInputSchema,
  providerListSchema,
  providerSchema,
  updateProviderInputSchema,
} from '../../spec/schemas/provider.js';
import type { ProviderService } from '../../core/management/provider-service.js';
import '../route-access.js';

const providerParams = z.object({ provider: z.string().min(1) });
const config = { access: 'admin' as const };

/** `/api/providers`: list, create custom, read, change settings, delete. */
export function providerRoutes(providers: ProviderService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/providers', { config, schema: { tags: ['providers'], response: { 200: providerListSchema } } }, async () => {
      const list = providers.list();
      return { providers: list, total: list.length };
    });

    app.post(
      '/api/providers',
      { config, schema: { tags: ['providers'], body: createProviderInputSchema, response: { 201: providerSchema } } },
      async (request, reply) => reply.code(201).send(await providers.create(request.body)),
    );

    app.get(
      '/api/providers/:provider',
      { config, schema: { tags: ['providers'], params: providerParams, response: { 200: providerSchema } } },
      async (request) => providers.get(request.params.provider),
    );

    app.put(
      '/api/providers/:provider',
      {
        config,
        schema: {
          tags: ['providers'],
          params: providerParams,
          // `keys` is named so that sending it gets a message pointing at the keys routes.
          body: updateProviderInputSchema.extend({ keys: z.unknown().optional() }),
          response: { 200: providerSchema },
        },
      },
      async (request) => providers.update(request.params.provider, request.body),
    );

    app.delete(
      '/api/providers/:provider',
      { config, schema: { tags: ['providers'], params: providerParams, response: { 200: providerSchema } } },
      async (request) => providers.delete(request.params.provider),
    );
  };
}
