import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  apiKeySchema,
  apiKeyUsageSchema,
  consumptionLimitsSchema,
  createApiKeyInputSchema,
  createdApiKeySchema,
  envelope,
  limitPeriods,
  updateApiKeyInputSchema,
} from '../../spec/schemas/api-key.js';
import { errors } from '../../spec/errors.js';
import type { ApiKeyService } from '../../core/api-keys/api-key-service.js';
import '../route-access.js';

const admin = { access: 'admin' as const };
const rateLimitsSchema = envelope(
  z.object({
    accessPermitted: z.boolean(),
    keyExpiration: z.string().nullable(),
    consumptionLimits: consumptionLimitsSchema,
    limitPeriod: z.enum(limitPeriods).nullable(),
    usage: apiKeyUsageSchema.nullable(),
    resetsAt: z.string().nullable(),
    rateLimits: z.object({ rpm: z.number().nullable(), tpm: z.number().nullable(), maxConcurrent: z.number().nullable() }),
  }),
);

/** `/api/v1/api_keys` (seed 001) and the caller's own `rate_limits`. */
export function apiKeyRoutes(apiKeys: ApiKeyService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v1/api_keys',
      { config: admin, schema: { tags: ['api-keys'], body: createApiKeyInputSchema, response: { 200: envelope(createdApiKeySchema) } } },
      async (request) => ({ data: await apiKeys.create(request.body), success: true as const }),
    );

    app.get('/api/v1/api_keys', { config: admin, schema: { tags: ['api-keys'], response: { 200: envelope(z.array(apiKeySchema)) } } }, async () => ({
      data: await apiKeys.list(),
      success: true as const,
    }));

    app.get(
      '/api/v1/api_keys/rate_limits',
      { config: { access: 'inference' }, schema: { tags: ['api-keys'], response: { 200: rateLimitsSchema } } },
      async (request) => {
        const principal = request.principal!;
        const record = principal.kind === 'api-key' ? apiKeys.find(principal.id) : undefined;
        if (!record) {
          return {
            data: {
              accessPermitted: true,
              keyExpiration: null,
              consumptionLimits: { usd: null, diem: null, vcu: null },
              limitPeriod: null,
              usage: null,
              resetsAt: null,
              rateLimits: { rpm: null, tpm: null, maxConcurrent: null },
            },
            success: true as const,
          };
        }
        const view = await apiKeys.get(record.id);
        const remaining = Object.values(view.usage.window.remaining);
        return {
          data: {
            accessPermitted: remaining.every((value) => value > 0),
            keyExpiration: view.expiresAt,
            consumptionLimits: view.consumptionLimits,
            limitPeriod: view.limitPeriod,
            usage: view.usage,
            resetsAt: view.usage.window.resetsAt,
            rateLimits: view.rateLimits,
          },
          success: true as const,
        };
      },
    );

    app.get(
      '/api/v1/api_keys/:id',
      { config: admin, schema: { tags: ['api-keys'], params: z.object({ id: z.string().min(1) }), response: { 200: envelope(apiKeySchema) } } },
      async (request) => ({ data: await apiKeys.get(request.params.id), success: true as const }),
    );

    app.patch(
      '/api/v1/api_keys',
      { config: admin, schema: { tags: ['api-keys'], body: updateApiKeyInputSchema, response: { 200: envelope(apiKeySchema) } } },
      async (request) => ({ data: await apiKeys.update(request.body), success: true as const }),
    );

    app.delete(
      '/api/v1/api_keys',
      { config: admin, schema: { tags: ['api-keys'], querystring: z.object({ id: z.string().optional() }), response: { 200: envelope(apiKeySchema) } } },
      async (request) => {
        if (!request.query.id) throw errors.badRequest('id is required (DELETE /api/v1/api_keys?id=...)', { param: 'id' });
        return { data: await apiKeys.delete(request.query.id), success: true as const };
      },
    );

    app.delete(
      '/api/v1/api_keys/:id',
      { config: admin, schema: { tags: ['api-keys'], params: z.object({ id: z.string().min(1) }), response: { 200: envelope(apiKeySchema) } } },
      async (request) => ({ data: await apiKeys.delete(request.params.id), success: true as const }),
    );
  };
}
