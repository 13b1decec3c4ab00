import cluster from 'node:cluster';
import type { Config } from '../config/environment.js';
import { createLogger } from './logger.js';
import { failStart, startGateway } from './start.js';

/**
 * Multi-core mode (`TOLLGATE_WORKERS=N`): the primary prepares the store once (migrations, admin key, config
 * file) so that workers do not race on it, then forks N workers that share one port through node:cluster and
 * share limits through Redis. A worker that dies is replaced.
 */
export async function runCluster(config: Config): Promise<void> {
  if (!cluster.isPrimary) {
    await startGateway(config, { reconcile: false, refresh: true });
    return;
  }
  const logger = createLogger({ level: config.logLevel });
  await startGateway(config, { listen: false });
  let stopping = false;
  for (let index = 0; index < config.workers; index += 1) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    const forced = setTimeout(() => process.exit(1), 20_000);
    forced.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export { failStart };
