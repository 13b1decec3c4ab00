import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { providerKeyInputSchema, providerKeyListSchema, providerKeySchema } from '../../spec/schemas/provider-key.js';
import { modelKeyUpdateInputSchema, modelKeyUpdateResponseSchema } from '../../spec/schemas/model-key-update.js';
import type { KeyService } from '../../core/management/key-service.js';
import type { ProviderService } from '../../core/management/provider-service.js';
import { updateKeyFromModelsRoute } from '../../core/management/model-key-update.js';
import type { Clock } from '../../spec/clock.js';
import '../route-access.js';

const providerParams = z.object({ provider: z.string().min(1) });
const keyParams = z.object({ provider: z.string().min(1), key_id: z.string().min(1) });
const config = { access: 'admin' as const };

export interface KeyRouteServices {
  keys: KeyService;
  providers: ProviderService;
  pricingStructureExists: (id: string) => boolean;
  clock: Clock;
}

/** `/api/providers/{provider}/keys`, `/api/keys` (seed 002) and `PUT /v1/models` (seed 000). */
export function providerKeyRoutes(services: KeyRouteServices): FastifyPluginAsyncZod {
  const { keys } = services;
  return async (app) => {
    app.get('/api/keys', { config, schema: { tags: ['keys'], response: { 200: providerKeyListSchema } } }, async () => {
      const list = keys.list();
      return { keys: list, total: list.length };
    });

    app.get(
      '/api/providers/:provider/keys',
      { config, schema: { tags: ['keys'], params: providerParams, response: { 200: providerKeyListSchema } } },
      async (request) => {
        const list = keys.list(request.params.provider);
        return { keys: list, total: list.length };
      },
    );

    app.post(
      '/api/providers/:provider/keys',
      { config, schema: { tags: ['keys'], params: providerParams, body: providerKeyInputSchema, response: { 201: providerKeySchema } } },
      async (request, reply) => reply.code(201).send(await keys.create(request.params.provider, request.body)),
    );

    app.get(
      '/api/providers/:provider/keys/:key_id',
      { config, schema: { tags: ['keys'], params: keyParams, response: { 200: providerKeySchema } } },
      async (request) => keys.get(request.params.provider, request.params.key_id),
    );

    app.put(
      '/api/providers/:provider/keys/:key_id',
      { config, schema: { tags: ['keys'], params: keyParams, body: providerKeyInputSchema, response: { 200: providerKeySchema } } },
      async (request) => keys.replace(request.params.provider, request.params.key_id, request.body),
    );

    app.delete(
      '/api/providers/:provider/keys/:key_id',
      { config, schema: { tags: ['keys'], params: keyParams, response: { 200: providerKeySchema } } },
      async (request) => keys.delete(request.params.provider, request.params.key_id),
    );

    app.put(
      '/v1/models',
      { config, schema: { tags: ['keys'], body: modelKeyUpdateInputSchema, response: { 200: modelKeyUpdateResponseSchema } } },
      async (request) =>
        updateKeyFromModelsRoute(request.body, {
          keys,
          providers: services.providers,
          pricingStructureExists: services.pricingStructureExists,
          now: new Date(services.clock()).toISOString(),
        }),
    );
  };
}
