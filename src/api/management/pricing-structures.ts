import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  pricingStructureInputSchema,
  pricingStructureListSchema,
  pricingStructureSchema,
} from '../../spec/schemas/pricing-structure.js';
import type { PricingStructureService } from '../../core/management/pricing-structure-service.js';
import '../route-access.js';

const structureParams = z.object({ id: z.string().min(1) });
const config = { access: 'admin' as const };
const tags = ['pricing-structures'];

/** `/api/pricing-structures`: list, create, read, replace, delete. */
export function pricingStructureRoutes(structures: PricingStructureService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/pricing-structures', { config, schema: { tags, response: { 200: pricingStructureListSchema } } }, async () => {
      const list = structures.list();
      return { pricing_structures: list, total: list.length };
    });

    app.post(
      '/api/pricing-structures',
      { config, schema: { tags, body: pricingStructureInputSchema, response: { 201: pricingStructureSchema } } },
      async (request, reply) => reply.code(201).send(await structures.create(request.body)),
    );

    app.get(
      '/api/pricing-structures/:id',
      { config, schema: { tags, params: structureParams, response: { 200: pricingStructureSchema } } },
      async (request) => structures.get(request.params.id),
    );

    app.put(
      '/api/pricing-structures/:id',
      { config, schema: { tags, params: structureParams, body: pricingStructureInputSchema, response: { 200: pricingStructureSchema } } },
      async (request) => structures.replace(request.params.id, request.body),
    );

    app.delete(
      '/api/pricing-structures/:id',
      { config, schema: { tags, params: structureParams, response: { 200: pricingStructureSchema } } },
      async (request) => structures.delete(request.params.id),
    );
  };
}
