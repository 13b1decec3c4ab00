import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type FastifyPluginAsyncZod,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Authenticator, credentialFrom, hashCredential } from '../../src/core/auth/authenticator.js';
import type { RouteAccess } from '../../src/api/route-access.js';
import { installErrorHandling, sendError, toGatewayError } from '../../src/server/error-handler.js';
import { createLogger } from '../../src/server/logger.js';
import { testAdminKey } from './test-gateway.js';

export interface MountedRoutes {
  app: FastifyInstance;
  request(options: { method: string; url: string; body?: unknown; headers?: Record<string, string>; admin?: boolean }): Promise<{
    status: number;
    body: any;
    headers: Record<string, unknown>;
    text: string;
  }>;
  close(): Promise<void>;
}

/**
 * A small Fastify app serving only the given route plugins, built like `createApp` builds the real one: zod
 * validator and serializer, the one error handler, the admin/inference access hook (admin key `testAdminKey`)
 * and the OpenAPI generator, so that `app.swagger()` shows whether the routes' schemas convert.
 */
export async function mountRoutes(plugins: FastifyPluginAsyncZod[]): Promise<MountedRoutes> {
  const app = Fastify({ loggerInstance: createLogger({ level: 'silent' }) as FastifyBaseLogger }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app as unknown as FastifyInstance);
  await app.register(fastifySwagger, {
    openapi: { openapi: '3.1.0', info: { title: 'Tollgate (test)', version: '0.0.0' } },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  const authenticator = new Authenticator(hashCredential(testAdminKey));
  app.addHook('onRequest', async (request, reply) => {
    const access: RouteAccess = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    try {
      const credential = credentialFrom(request.headers);
      request.principal = access === 'admin' ? authenticator.requireAdmin(credential) : authenticator.authenticate(credential);
    } catch (error) {
      return sendError(reply, toGatewayError(error, request));
    }
  });

  for (const plugin of plugins) await app.register(plugin);
  await app.ready();

  return {
    app: app as unknown as FastifyInstance,
    async request({ method, url, body, headers = {}, admin = true }) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(admin ? { authorization: `Bearer ${testAdminKey}` } : {}),
          ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: body as string | object }),
      });
      let parsed: unknown;
      try {
        parsed = response.json();
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, body: parsed, headers: response.headers, text: response.body };
    },
    close: () => app.close(),
  };
}
