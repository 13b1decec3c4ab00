import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Authenticator, credentialFrom } from '../core/auth/authenticator.js';
import { KeyService } from '../core/management/key-service.js';
import { ProviderService } from '../core/management/provider-service.js';
import { providerKeyRoutes } from '../api/management/provider-keys.js';
import { providerRoutes } from '../api/management/providers.js';
import type { RouteAccess } from '../api/route-access.js';
import { systemClock } from '../spec/clock.js';
import { errors } from '../spec/errors.js';
import { timeOrderedId } from '../spec/time-ordered-id.js';
import { Catalog } from '../store/catalog.js';
import { ProviderKeyRepository } from '../store/provider-key-repository.js';
import { ProviderRepository } from '../store/provider-repository.js';
import { SettingsRepository } from '../store/settings-repository.js';
import { installErrorHandling, sendError, toGatewayError } from './error-handler.js';
import { createAdapterRegistry } from '../providers/index.js';
import { Router } from '../core/routing/router.js';
import { Dispatcher } from '../core/dispatch/dispatcher.js';
import { createUpstreamAgent, UpstreamClient } from '../core/dispatch/upstream-client.js';
import { ChatService } from '../core/inference/chat-service.js';
import { EmbeddingService } from '../core/inference/embedding-service.js';
import { TokenCountService } from '../core/inference/token-count-service.js';
import { listModels } from '../core/inference/model-list.js';
import { GatewayMetrics } from '../core/observability/metrics.js';
import { clusterMetricsOf } from './cluster-metrics.js';
import { chatCompletionRoutes } from '../api/inference/chat-completions.js';
import { RoutesInFlight } from '../api/inference/inference-call.js';
import { embeddingRoutes } from '../api/inference/embeddings.js';
import { messagesRoutes } from '../api/inference/messages.js';
import { countTokensRoutes } from '../api/inference/count-tokens.js';
import { responsesRoutes } from '../api/inference/responses.js';
import { modelRoutes } from '../api/inference/models.js';
import { apiKeyRoutes } from '../api/management/api-keys.js';
import { pricingStructureRoutes } from '../api/management/pricing-structures.js';
import { ApiKeyService } from '../core/api-keys/api-key-service.js';
import { LedgerWriter } from '../core/api-keys/ledger-writer.js';
import { LimitEnforcer } from '../core/api-keys/limit-enforcer.js';
import { rebuildCountersFromLedger } from '../core/api-keys/rebuild-counters.js';
import { PricingStructureService } from '../core/management/pricing-structure-service.js';
import { createPriceCatalog } from '../core/pricing/index.js';
import { createCounters } from '../counters/create-counters.js';
import { MemoryCounters } from '../counters/memory-counters.js';
import { ApiKeyRepository } from '../store/api-key-repository.js';
import { PricingStructureRepository } from '../store/pricing-structure-repository.js';
import { UsageLedgerRepository } from '../store/usage-ledger-repository.js';
import { usageRoutes } from '../api/management/usage.js';
import { UsageReportService } from '../core/management/usage-report-service.js';
import { createLogger, withoutRedaction } from './logger.js';
import { installJsonBodyParser } from './json-body-parser.js';
import { installRequestLog } from './request-log.js';
import { declareRouteConfig, routeConfigOf } from './route-config.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import type { AppDependencies, Gateway } from './app-dependencies.js';

export type { AppDependencies, Gateway } from './app-dependencies.js';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every route's schema is zod's: with these factories Fastify never loads its default JSON Schema compilers (ajv and
 * fast-json-stringify, ~1–2 MB of resident memory and 100 modules at start for nothing), and every route is validated
 * and serialised by zod's. Typed as the ajv factories they stand in for.
 */
const zodCompilers = { buildValidator: () => validatorCompiler, buildSerializer: () => serializerCompiler } as unknown as NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

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
  // The revision of the shared configuration this process last loaded. A change made here writes a new revision but
  // leaves this one alone: another process's change may have come in between, and only a reload takes it in.
  let revision = '';
  const changed = async () => {
    await settings.set('revision', randomUUID());
  };
  const reload = async () => {
    // The revision is read before what it stands for: a change committed in between then shows as a newer revision
    // at the next refresh. Read together, a process could take the newer revision with the older lists and keep them.
    const stored = await settings.get('revision');
    const [providerRecords, keyRecords] = await Promise.all([providerRepository.list(), keyRepository.list()]);
    catalog.replace(providerRecords, keyRecords);
    revision = stored ?? '';
  };
  // After a key rotation (TOLLGATE_PREVIOUS_ENCRYPTION_KEYS), the first start seals every secret with the new key.
  const sealedAgain = await keyRepository.reencryptSecrets();
  if (sealedAgain > 0) logger.info({ keys: sealedAgain }, 'provider key secrets re-encrypted with the current encryption key');
  await reload();

  const providers = new ProviderService({ catalog, providers: providerRepository, keys: keyRepository, clock, changed });
  const pricingStructures = new PricingStructureService({
    repository: new PricingStructureRepository(db),
    clock,
    keyReferences: (id) => [...catalog.snapshot.keys.values()].filter((key) => key.customPricingStructureId === id).map((key) => key.id),
    changed,
  });
  await pricingStructures.load();
  const pricingStructureExists = (id: string) => pricingStructures.exists(id);
  const keys = new KeyService({ catalog, keys: keyRepository, providers, clock, readEnvironment, pricingStructureExists, changed });
  const authenticator = new Authenticator(dependencies.adminKeyHash);
  const adapters = dependencies.adapters ?? createAdapterRegistry(dependencies.adapterOptions ?? {});
  const random = dependencies.random ?? Math.random;
  const router = new Router(catalog, adapters, clock, random);
  const busyPoll = dependencies.busyPoll;
  const agent = createUpstreamAgent(dependencies.upstreamProxy);
  const client = new UpstreamClient(busyPoll ? agent.compose(busyPoll.upstreamInterceptor()) : agent, dependencies.maxUpstreamReplyBytes);
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
    recordAttempts: (attempts) => {
      for (const attempt of attempts) metrics.attempt(attempt.provider, attempt.outcome);
    },
  });
  metrics.watchProviderConcurrency(() => dispatcher.providerConcurrency());
  const rates = dependencies.rates ?? { diemUsd: 1, vcuUsd: 1 };
  // Metering work done after an answer has left (settlements, the counters' background writes) has no request to fail.
  const meteringFailed = (error: unknown, context: string): void => {
    metrics.meteringFailure('settle');
    logger.error({ err: error, context }, 'metering failed');
  };
  const counters =
    dependencies.counters ??
    (await createCounters({
      redisUrl: dependencies.redisUrl,
      keyPrefix: dependencies.redisKeyPrefix || undefined,
      commandTimeoutMs: dependencies.redisCommandTimeoutMs,
      leases: dependencies.redisCounterLeases,
      // Settled usage a failed background write did not take is kept for the next try.
      onError: (error) => meteringFailed(error, 'redis-counters'),
      now: clock,
    }));
  const ledgerRepository = new UsageLedgerRepository(db);
  const usageReports = new UsageReportService({ db, clock });
  const flushMs = dependencies.ledgerFlushMs ?? 500;
  const ledger = new LedgerWriter(ledgerRepository, {
    intervalMs: flushMs,
    batchSize: 500,
    onError: (error) => {
      metrics.meteringFailure('ledger');
      logger.error({ err: error }, 'usage ledger write failed; rows kept for the next try');
    },
    onRowRefused: (row, error) => {
      metrics.meteringFailure('ledger');
      // The whole row, so that an operator can put it back by hand once the cause is mended; it holds no secret.
      logger.error({ err: error, row }, 'usage ledger row refused by the store; set aside, not tried again');
    },
  });
  // Answers leave before their settlements land (see MeteringTicket); a row is appended once its settlement has.
  const flushUsage = async (): Promise<void> => {
    await meter.drain();
    await counters.flush();
    await ledger.flush();
  };
  const apiKeys = new ApiKeyService({
    repository: new ApiKeyRepository(db),
    counters,
    clock,
    rates,
    totalsSince: (ids, since) => ledgerRepository.totalsSince(ids, since),
    flushLedger: flushUsage,
    lastUsedFlushMs: flushMs,
    changed,
  });
  await apiKeys.load();
  authenticator.addVerifier(apiKeys);
  if (counters instanceof MemoryCounters) {
    const restored = await rebuildCountersFromLedger(await new ApiKeyRepository(db).list(), ledgerRepository, counters, clock);
    if (restored > 0) logger.info({ keys: restored }, 'limit counters rebuilt from the usage ledger');
  }
  const meter =
    dependencies.meter ??
    new LimitEnforcer({
      apiKeys,
      counters,
      catalog,
      prices: createPriceCatalog({ now: clock }),
      pricingStructure: (id) => pricingStructures.find(id),
      ledger,
      clock,
      rates,
      reservationTtlMs: 15 * 60_000,
      onError: meteringFailed,
    });
  const chat = new ChatService({ router, dispatcher, client, meter, metrics, clock, onError: meteringFailed });
  const embeddings = new EmbeddingService({ router, dispatcher, client, meter, metrics, clock, onError: meteringFailed });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: 1024 * 1024,
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      // Time-ordered, so that the usage ledger's request-id index grows at its end.
      return typeof sent === 'string' && requestIdPattern.test(sent) ? sent : timeOrderedId();
    },
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500 },
    // Errors Fastify raises before routing (a malformed URL, an over-long parameter) get the one error shape too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', String(request.id));
      void sendError(reply, toGatewayError(error, request));
    },
    forceCloseConnections: 'idle',
    schemaController: { compilersFactory: zodCompilers },
  }).withTypeProvider<ZodTypeProvider>();
  if (busyPoll) app.server.on('request', busyPoll.touch);

  installErrorHandling(app as unknown as FastifyInstance);
  installJsonBodyParser(app as unknown as FastifyInstance);

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

  // Declared up front so that every request object has the same shape whether or not the hook sets it.
  app.decorateRequest('principal', undefined);
  const inferenceRoutes = new RoutesInFlight();
  app.decorate('inferenceRoutes', inferenceRoutes);
  declareRouteConfig(app);
  // A callback hook rather than an async one: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', String(request.id));
    const access: RouteAccess = routeConfigOf(request).access ?? 'public';
    if (access === 'public') return done();
    try {
      const credential = credentialFrom(request.headers, ['x-maxim-api-key']);
      request.principal = access === 'admin' ? authenticator.requireAdmin(credential) : authenticator.authenticate(credential);
    } catch (error) {
      // The error reply ends the request; the remaining hooks and the handler do not run.
      void sendError(reply, toGatewayError(error, request));
      return;
    }
    done();
  });

  installRequestLog(app as unknown as FastifyInstance, withoutRedaction(logger));

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
  const tokenCounts = new TokenCountService({ router, dispatcher, client, meter, metrics, clock, onError: meteringFailed });
  await app.register(responsesRoutes(chat, tokenCounts, clock));
  await app.register(countTokensRoutes(tokenCounts));
  await app.register(
    modelRoutes((principal) => {
      const record = principal.kind === 'api-key' ? apiKeys.find(principal.id) : undefined;
      const allowed = record && record.models.length > 0 ? (id: string) => record.models.includes(id) || record.models.includes(id.slice(id.indexOf('/') + 1)) : undefined;
      return listModels(catalog.snapshot, adapters, allowed);
    }),
  );
  await app.register(apiKeyRoutes(apiKeys));
  await app.register(pricingStructureRoutes(pricingStructures));
  await app.register(usageRoutes(usageReports));
  const renderMetrics = dependencies.clusterWorker ? clusterMetricsOf(metrics.registry) : () => metrics.render();
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const rendered = await renderMetrics();
    return reply.type(rendered.contentType).send(rendered.body);
  });

  // Other processes sharing the database announce changes through the revision setting.
  const refresh = async (): Promise<void> => {
    const stored = await settings.get('revision');
    if ((stored ?? '') === revision) return;
    await reload();
    await Promise.all([apiKeys.load(), pricingStructures.load()]);
  };
  let refreshTimer: NodeJS.Timeout | undefined;
  const interval = dependencies.refreshIntervalMs ?? 0;
  if (interval > 0) {
    refreshTimer = setInterval(() => {
      refresh().catch((error: unknown) => logger.warn({ err: error }, 'configuration refresh failed'));
    }, interval);
    refreshTimer.unref();
  }

  await app.ready();
  return {
    app: app as unknown as FastifyInstance,
    services: { providers, keys, catalog, authenticator, router, metrics, adapters, apiKeys, counters, ledger, pricingStructures, usageReports },
    reload,
    refresh,
    flushUsage,
    async close() {
      if (refreshTimer) clearInterval(refreshTimer);
      busyPoll?.stop();
      await app.close();
      // A connection closed under its request (the end of a stop's grace period) cancels the request; its route still
      // ends its relay and hands what was used to the meter, which is drained only once every route is done.
      await inferenceRoutes.idle();
      // Answers may have left before their settlements landed in the counters; those land before the counters close.
      await meter.drain();
      await client.close();
      await ledger.close();
      await apiKeys.close();
      if (!dependencies.counters) await counters.close();
    },
  };
}
