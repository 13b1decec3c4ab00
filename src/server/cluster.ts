import cluster from 'node:cluster';
import type { Config } from '../config/environment.js';
import { serveClusterMetrics } from './cluster-metrics.js';
import { relayLines } from './line-relay.js';
import { createLogger, standardOutputDestination } from './logger.js';
import { failStart, startGateway } from './start.js';

/**
 * Multi-core mode (`TOLLGATE_WORKERS=N`): the primary prepares the store once (migrations, admin key, config
 * file) so that workers do not race on it, then forks N workers that share one port through node:cluster and
 * share limits through Redis. A worker that dies is replaced. `GET /metrics`, whichever worker takes it, answers
 * for all of them (server/cluster-metrics.ts).
 *
 * Only the primary writes to standard output: each worker's log lines come to it through a pipe of their own and
 * leave through the primary's logger, whole lines at a time. Workers writing to one inherited pipe (a container's
 * standard output) could mix their lines: a write to a pipe is only kept in one piece up to 4 KB (PIPE_BUF), and
 * log lines leave in batches of up to 64 KiB.
 */
export async function runCluster(config: Config): Promise<void> {
  if (!cluster.isPrimary) {
    await startGateway(config, { reconcile: false, refresh: true, clusterWorker: true });
    return;
  }
  const output = standardOutputDestination();
  const logger = createLogger({ level: config.logLevel, destination: output });
  await startGateway(config, { listen: false, logger });
  serveClusterMetrics();
  cluster.setupPrimary({ stdio: ['inherit', 'pipe', 'inherit', 'ipc'] });
  /** The workers' output still being read: a stop waits for it, so that no worker's last lines are lost. */
  const relays = new Set<Promise<void>>();
  const fork = (): void => {
    const worker = cluster.fork();
    const relayed = relayLines(worker.process.stdout!, (lines) => output.writeBytes(lines));
    relays.add(relayed);
    void relayed.then(() => relays.delete(relayed));
  };
  let stopping = false;
  for (let index = 0; index < config.workers; index += 1) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    // The workers take the grace period and then write what their requests used; only past that does the primary give up.
    const forced = setTimeout(() => process.exit(1), (config.shutdownGraceSeconds + 20) * 1000);
    forced.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length > 0) return;
      void Promise.all(relays).then(() => {
        logger.flush();
        process.exit(0);
      });
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export { failStart };
