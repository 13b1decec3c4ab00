import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { Authenticator, credentialFrom } from '../core/auth/authenticator.js';
import { KeyService } from '../core/management/key-service.js';
import { ProviderService } from '../core/management/provider-service.js';
import { providerKeyRoutes } from '../api/management/provider-keys.js';
import { providerRoutes } from '../api/management/providers.js';
import type { RouteAccess } from '../api/route-access.js';
import { systemClock, type Clock } from '../spec/clock.js';
import type { EnvironmentReader } from '../spec/environment-reader.js';
import { errors } from '../spec/errors.js';
import { Catalog } from '../store/catalog.js';
import type { Database } from '../store/database.js';
import { ProviderKeyRepository } from '../store/provider-key-repository.js';
import { ProviderRepository } from '../store/provider-repository.js';
import type { SecretBox } from '../store/secret-box.js';
import { SettingsRepository } from '../store/settings-repository.js';
import { installErrorHandling, sendError, toGatewayError } from './error-handler.js';
import { createAdapterRegistry, type AdapterRegistry } from '../providers/index.js';
import type { AdapterOptions } from '../spec/provider.js';
import { Router, type RandomSource } from '../core/routing/router.js';
import { Dispatcher } from '../core/dispatch/dispatcher.js';
import { UpstreamClient } from '../core/dispatch/upstream-client.js';
import { ChatService } from '../core/inference/chat-service.js';
import { EmbeddingService } from '../core/inference/embedding-service.js';
import { listModels } from '../core/inference/model-list.js';
import { observingMeter, type UsageMeter } from '../core/inference/metering.js';
import { GatewayMetrics } from '../core/observability/metrics.js';
import { chatCompletionRoutes } from '../api/inference/chat-completions.js';
import { embeddingRoutes } from '../api/inference/embeddings.js';
import { messagesRoutes } from '../api/inference/messages.js';
import { modelRoutes } from '../api/inference/models.js';
import { createLogger } from './logger.js';

/** Everything the app is built from; tests build it in-process with their own store, clock and environment. */
export interface AppDependencies {
  database: Database;
  secretBox: SecretBox;
  /** SHA-256 of the admin key. */
  adminKeyHash: Buffer;
  clock?: Clock;
  readEnvironment?: EnvironmentReader;
  logger?: Logger;
  /** How often to look for changes made by other processes (ms); 0 disables. */
  refreshIntervalMs?: number;
  adapterOptions?: AdapterOptions;
  /** Replaces the adapter registry (tests of the core with fake adapters). */
  adapters?: AdapterRegistry;
  /** Random source for weighted key choice and backoff jitter. */
  random?: RandomSource;
  /** Limits and ledger; the default only observes. */
  meter?: UsageMeter;
  /** Collect Node's process metrics too (off in tests, which build many apps). */
  processMetrics?: boolean;
}

/** The built app and the services behind it. */
export interface Gateway {
  app: FastifyInstance;
  services: {
    providers: ProviderService;
    keys: KeyService;
    catalog: Catalog;
    authenticator: Authenticator;
    router: Router;
    metrics: GatewayMetrics;
    adapters: AdapterRegistry;
  };
  /** Reloads providers and keys from the database. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Wires store, services and routes into a Fastify app. The only place where dependencies are assembled. */
export async function createApp(dependencies: AppDependencies): Promise<Gateway> {
  const clock = dependencies.clock ?? systemClock;
  const readEnvironment = dependencies.readEnvironment ?? (() => undefined);
  const logger = dependencies.logger ?? createLogger({ level: 'silent' });
  const db = dependencies.database.db;

  const providerRepository = new ProviderRepository(db);
  const keyRepository = new ProviderKeyRepository(db, dependencies.secretBox);
  const settings = new SettingsRepository(db);
  const catalog = new Catalog();
  let revision = '';
  const changed = async () => {
    revision = randomUUID();
    await settings.set('revision', revision);
  };
  const reload = async () => {
    const [providerRecords, keyRecords, stored] = await Promise.all([
      providerRepository.list(),
      keyRepository.list(),
      settings.get('revision'),
    ]);
    catalog.replace(providerRecords, keyRecords);
    revision = stored ?? '';
  };
  await reload();

  const providers = new ProviderService({ catalog, providers: providerRepository, keys: keyRepository, clock, changed });
  const pricingStructureExists = (_id: string) => false;
  const keys = new KeyService({ catalog, keys: keyRepository, providers, clock, readEnvironment, pricingStructureExists, changed });
  const authenticator = new Authenticator(dependencies.adminKeyHash);
  const adapters = dependencies.adapters ?? createAdapterRegistry(dependencies.adapterOptions ?? {});
  const random = dependencies.random ?? Math.random;
  const router = new Router(catalog, adapters, clock, random);
  const client = new UpstreamClient();
  const metrics = new GatewayMetrics({ defaultMetrics: dependencies.processMetrics ?? false });
  const dispatcher = new Dispatcher({
    router,
    client,
    clock,
    readEnvironment,
    random,
    setKeyStatus: (keyId, status) => {
      keys.setStatus(keyId, status).catch((error: unknown) => logger.warn({ err: error, keyId }, 'could not record key status'));
    },
  });
  const meter = dependencies.meter ?? observingMeter;
  const chat = new ChatService({ router, dispatcher, client, meter, metrics, clock });
  const embeddings = new EmbeddingService({ router, dispatcher, client, meter, metrics, clock });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      return typeof sent === 'string' && requestIdPattern.test(sent) ? sent : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app as unknown as FastifyInstance);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tollgate',
        description: 'Self-hosted LLM gateway: provider keys, API keys with limits, OpenAI- and Anthropic-compatible inference.',
        version: '0.1.0',
      },
      components: { securitySchemes: { adminKey: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
    const access: RouteAccess = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    try {
      const credential = credentialFrom(request.headers, ['x-maxim-api-key']);
      request.principal = access === 'admin' ? authenticator.requireAdmin(credential) : authenticator.authenticate(credential);
    } catch (error) {
      return sendError(reply, toGatewayError(error, request));
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/health' || request.routeOptions.url === '/metrics') return;
    request.log.info(
      {
        requestId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
  });

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    if (await dependencies.database.ping()) return { status: 'ready' };
    return sendError(reply, errors.unavailable('The store is not reachable', { code: 'store_unavailable' }));
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(providerRoutes(providers));
  await app.register(providerKeyRoutes({ keys, providers, pricingStructureExists, clock }));
  await app.register(chatCompletionRoutes(chat));
  await app.register(embeddingRoutes(embeddings));
  await app.register(messagesRoutes(chat));
  await app.register(modelRoutes(() => listModels(catalog.snapshot, adapters)));
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const rendered = await metrics.render();
    return reply.type(rendered.contentType).send(rendered.body);
  });

  // Other processes sharing the database announce changes through the revision setting.
  let refreshTimer: NodeJS.Timeout | undefined;
  const interval = dependencies.refreshIntervalMs ?? 0;
  if (interval > 0) {
    refreshTimer = setInterval(() => {
      settings
        .get('revision')
        .then(async (stored) => {
          if ((stored ?? '') !== revision) await reload();
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'configuration refresh failed'));
    }, interval);
    refreshTimer.unref();
  }

  await app.ready();
  return {
    app: app as unknown as FastifyInstance,
    services: { providers, keys, catalog, authenticator, router, metrics, adapters },
    reload,
    async close() {
      if (refreshTimer) clearInterval(refreshTimer);
      await app.close();
      await client.close();
    },
  };
}
