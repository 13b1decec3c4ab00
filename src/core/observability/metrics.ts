import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TokenUsage } from '../../spec/usage.js';

/** Tollgate's Prometheus metrics, in a registry of their own (one per app, so tests do not share state). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'provider' | 'model' | 'status'>;
  readonly #errors: Counter<'route' | 'provider' | 'code'>;
  readonly #latency: Histogram<'route' | 'provider'>;
  readonly #tokens: Counter<'provider' | 'model' | 'kind'>;
  readonly #attempts: Counter<'provider' | 'outcome'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_process_' });
    this.#requests = new Counter({
      name: 'tollgate_requests_total',
      help: 'Inference requests by route, serving provider and model, and HTTP status',
      labelNames: ['route', 'provider', 'model', 'status'],
      registers: [this.registry],
    });
    this.#errors = new Counter({
      name: 'tollgate_errors_total',
      help: 'Inference requests that ended in an error, by error code',
      labelNames: ['route', 'provider', 'code'],
      registers: [this.registry],
    });
    this.#latency = new Histogram({
      name: 'tollgate_request_duration_seconds',
      help: 'Time from request to the last byte sent, by route and provider',
      labelNames: ['route', 'provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
    this.#tokens = new Counter({
      name: 'tollgate_tokens_total',
      help: 'Tokens metered, by provider, model and kind (input, output, cached)',
      labelNames: ['provider', 'model', 'kind'],
      registers: [this.registry],
    });
    this.#attempts = new Counter({
      name: 'tollgate_upstream_attempts_total',
      help: 'Upstream attempts by provider and outcome (ok, retry, rotate, failed)',
      labelNames: ['provider', 'outcome'],
      registers: [this.registry],
    });
  }

  /** Records one finished inference request. */
  observe(entry: { route: string; provider: string; model: string; status: number; seconds: number; usage?: TokenUsage; errorCode?: string }): void {
    this.#requests.inc({ route: entry.route, provider: entry.provider, model: entry.model, status: String(entry.status) });
    this.#latency.observe({ route: entry.route, provider: entry.provider }, entry.seconds);
    if (entry.errorCode) this.#errors.inc({ route: entry.route, provider: entry.provider, code: entry.errorCode });
    if (entry.usage) {
      const labels = { provider: entry.provider, model: entry.model };
      this.#tokens.inc({ ...labels, kind: 'input' }, entry.usage.inputTokens);
      this.#tokens.inc({ ...labels, kind: 'output' }, entry.usage.outputTokens);
      if (entry.usage.cachedInputTokens > 0) this.#tokens.inc({ ...labels, kind: 'cached' }, entry.usage.cachedInputTokens);
    }
  }

  attempt(provider: string, outcome: string): void {
    this.#attempts.inc({ provider, outcome });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
