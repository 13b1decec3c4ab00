import type { Logger } from 'pino';
import { ConfigurationError, loadConfig, processEnvironment, processEnvironmentReader, type Config } from '../config/environment.js';
import { readConfigFile } from '../config/config-file.js';
import { reconcileConfigFile } from '../core/management/config-reconcile.js';
import { openDatabase } from '../store/database.js';
import { SecretBox, loadOrCreateKeyFile } from '../store/secret-box.js';
import { SettingsRepository } from '../store/settings-repository.js';
import { systemClock } from '../spec/clock.js';
import { proxyOrigin } from '../spec/upstream-proxy.js';
import { adapterOptionsOf } from './adapter-options.js';
import { resolveAdminKeyHash } from './admin-key.js';
import { BusyPoll } from './busy-poll.js';
import { createApp, type Gateway } from './create-app.js';
import { createLogger } from './logger.js';

export interface StartOptions {
  /** Apply the configuration file (the cluster's primary does it once, before forking). */
  reconcile?: boolean;
  /** Listen and handle signals; false prepares the store and returns. */
  listen?: boolean;
  /** Look for changes made by other processes. */
  refresh?: boolean;
  /** The process logger, when the caller made it (the cluster's primary, which writes its workers' lines through it too). */
  logger?: Logger;
  /** A worker of TOLLGATE_WORKERS (its metrics are answered for the whole cluster). */
  clusterWorker?: boolean;
}

/** Starts Tollgate from the process environment: store, migrations, config file, HTTP server, signals. */
export async function startGateway(config: Config = loadConfig(processEnvironment()), options: StartOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const database = await openDatabase({
    dataDir: config.dataDir,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    onCheckpointFailure: (error) => logger.error({ err: error }, 'the SQLite checkpoint thread failed; checkpoints run on the event loop from now on'),
  });
  logger.info({ store: database.dialect, location: database.location }, 'store opened');

  let encryptionKey = config.encryptionKey;
  if (!encryptionKey) {
    const keyFile = loadOrCreateKeyFile(config.dataDir);
    encryptionKey = keyFile.key;
    if (keyFile.created) {
      logger.warn(
        { file: keyFile.file },
        'TOLLGATE_ENCRYPTION_KEY is not set: generated an encryption key file (mode 0600). Back it up: without it the stored secrets cannot be read.',
      );
    }
  }
  const adminKeyHash = await resolveAdminKeyHash(config.adminKey, new SettingsRepository(database.db), (key) => {
    // Written once to stderr, outside the structured log, so that log shipping does not collect it.
    process.stderr.write(
      `\nTollgate generated an admin key (shown only this once; only its hash is kept):\n\n    ${key}\n\nSet TOLLGATE_ADMIN_KEY to choose your own.\n\n`,
    );
  });

  const gateway = await createApp({
    database,
    secretBox: new SecretBox(encryptionKey, config.previousEncryptionKeys),
    adminKeyHash,
    clock: systemClock,
    readEnvironment: processEnvironmentReader,
    logger,
    refreshIntervalMs: config.databaseUrl || options.refresh ? 2000 : 0,
    ...(config.redisUrl ? { redisUrl: config.redisUrl, redisKeyPrefix: config.redisKeyPrefix, redisCommandTimeoutMs: config.redisCommandTimeoutMs, redisCounterLeases: config.redisCounterLeases } : {}),
    rates: { diemUsd: config.diemUsd, vcuUsd: config.vcuUsd },
    adapterOptions: adapterOptionsOf(config),
    processMetrics: true,
    ...(config.upstreamProxy ? { upstreamProxy: config.upstreamProxy } : {}),
    ...(options.clusterWorker ? { clusterWorker: true } : {}),
    // Only a process that serves has traffic to poll for (the cluster's primary prepares the store and stops).
    ...(config.busyPollMicroseconds > 0 && options.listen !== false ? { busyPoll: new BusyPoll(config.busyPollMicroseconds) } : {}),
  });

  if (config.upstreamProxy && options.listen !== false) {
    const { httpProxy, httpsProxy, noProxy } = config.upstreamProxy;
    // Origins only: a proxy URL may hold the proxy's password.
    logger.info(
      { httpProxy: httpProxy === '' ? null : proxyOrigin(httpProxy), httpsProxy: httpsProxy === '' ? null : proxyOrigin(httpsProxy), noProxy },
      'upstream requests go through an egress proxy',
    );
  }

  if (config.configFile && options.reconcile !== false) {
    const report = await reconcileConfigFile(readConfigFile(config.configFile), {
      providers: gateway.services.providers,
      keys: gateway.services.keys,
      clock: systemClock,
    });
    logger.info({ file: config.configFile, ...report }, 'configuration file applied');
  }

  if (options.listen === false) {
    await gateway.close();
    await database.close();
    logger.flush();
    return gateway;
  }
  await gateway.app.listen({ port: config.port, host: config.host });
  logger.info({ host: config.host, port: config.port }, 'tollgate listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.shutdownGraceSeconds * 1000;
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down: no new connections; requests in flight may finish within the grace period');
    // Streams can outlast any grace period a platform gives. Past it, their connections are closed: each request is
    // cancelled as if its client had left (its upstream call stopped, what it used settled and written to the
    // ledger, its log line saying 499), instead of the process being killed with all of that, and the ledger's last
    // batch, lost.
    const cut = setTimeout(() => {
      logger.warn({ requests: gateway.app.inferenceRoutes?.count ?? 0 }, 'shutdown grace period over: closing the connections still open');
      gateway.app.server.closeAllConnections();
    }, graceMs);
    cut.unref();
    // A last resort, should writing what was used hang (a store that stopped answering).
    const forced = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting without it');
      logger.flush();
      process.exit(1);
    }, graceMs + 15_000);
    forced.unref();
    gateway
      .close()
      .then(() => {
        clearTimeout(cut);
        return database.close();
      })
      .then(() => {
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return gateway;
}

/** Prints a configuration error plainly (no stack) and exits. */
export function failStart(error: unknown): never {
  if (error instanceof ConfigurationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Tollgate failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
