import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { errors } from '../spec/errors.js';

/**
 * `GET /metrics` in multi-core mode (`TOLLGATE_WORKERS`). The port is shared, so a scrape lands on whichever worker
 * accepts it; answering with that worker's own counters would make every scrape a different process's numbers (and
 * each switch a counter reset to Prometheus). The worker that takes the scrape asks the primary instead, which
 * collects every worker's registry over the cluster's IPC channel (prom-client's AggregatorRegistry) and answers with
 * their sum: counters and histograms added, gauges added (the providers' requests in flight and concurrency limits
 * become the cluster's totals).
 */

const metricsRequest = 'tollgate:metrics-request';
const metricsReply = 'tollgate:metrics-reply';

interface MetricsRequest {
  type: typeof metricsRequest;
  id: number;
}

interface MetricsReply {
  type: typeof metricsReply;
  id: number;
  contentType?: string;
  body?: string;
  error?: string;
}

/** What `GET /metrics` answers. */
export interface RenderedMetrics {
  contentType: string;
  body: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** In the primary: answers each worker's request for the cluster's metrics with every worker's registry, summed. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, metricsRequest)) return;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: metricsReply, id: message.id, contentType: aggregator.contentType, body } satisfies MetricsReply),
      (error: unknown) => worker.send({ type: metricsReply, id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies MetricsReply),
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's collections and returns what renders the cluster's metrics (a 503
 * in the error shape when the primary could not collect them, e.g. a worker that did not answer within its 5 s).
 */
export function clusterMetricsOf(registry: Registry): () => Promise<RenderedMetrics> {
  // Constructing one installs prom-client's listener that answers the primary's collection requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let nextId = 0;
  const waiting = new Map<number, { resolve: (rendered: RenderedMetrics) => void; reject: (error: Error) => void }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsReply>(message, metricsReply)) return;
    const entry = waiting.get(message.id);
    if (!entry) return;
    waiting.delete(message.id);
    if (message.body !== undefined && message.contentType !== undefined) entry.resolve({ contentType: message.contentType, body: message.body });
    else entry.reject(errors.unavailable(`The workers' metrics could not be collected: ${message.error ?? 'no answer'}`, { code: 'metrics_unavailable' }));
  });
  return () =>
    new Promise<RenderedMetrics>((resolve, reject) => {
      nextId += 1;
      const id = nextId;
      waiting.set(id, { resolve, reject });
      process.send!({ type: metricsRequest, id } satisfies MetricsRequest, undefined, {}, (error: Error | null) => {
        if (!error) return;
        waiting.delete(id);
        reject(errors.unavailable("The workers' metrics could not be collected: the primary process is not reachable", { code: 'metrics_unavailable' }));
      });
    });
}
