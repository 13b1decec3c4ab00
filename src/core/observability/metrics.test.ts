import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics.js';

type Entry = Parameters<GatewayMetrics['observe']>[0];

/**
 * The metrics as they were written before the label-tuple caches: every call straight to prom-client with a label
 * object. GatewayMetrics must render exactly what this renders for the same calls.
 */
function directMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'tollgate_requests_total',
    help: 'Inference requests by route, serving provider and model, and HTTP status',
    labelNames: ['route', 'provider', 'model', 'status'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'tollgate_errors_total',
    help: 'Inference requests that ended in an error, by error code',
    labelNames: ['route', 'provider', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'tollgate_request_duration_seconds',
    help: 'Time from request to the last byte sent, by route and provider',
    labelNames: ['route', 'provider'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'tollgate_tokens_total',
    help: 'Tokens metered, by provider, model and kind (input, output, cached)',
    labelNames: ['provider', 'model', 'kind'],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'tollgate_upstream_attempts_total',
    help: 'Upstream attempts by provider and outcome (ok, retry, rotate, failed)',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
  });
  new Counter({
    name: 'tollgate_metering_failures_total',
    help: 'Metering work that failed after the answer: settlements the limit counters did not take (stage "settle") and usage-ledger batches not written yet (stage "ledger")',
    labelNames: ['stage'],
    registers: [registry],
  });
  return {
    observe(entry: Entry): void {
      requests.inc({ route: entry.route, provider: entry.provider, model: entry.model, status: String(entry.status) });
      latency.observe({ route: entry.route, provider: entry.provider }, entry.seconds);
      if (entry.errorCode) errors.inc({ route: entry.route, provider: entry.provider, code: entry.errorCode });
      if (entry.usage) {
        const labels = { provider: entry.provider, model: entry.model };
        tokens.inc({ ...labels, kind: 'input' }, entry.usage.inputTokens);
        tokens.inc({ ...labels, kind: 'output' }, entry.usage.outputTokens);
        if (entry.usage.cachedInputTokens > 0) tokens.inc({ ...labels, kind: 'cached' }, entry.usage.cachedInputTokens);
      }
    },
    attempt(provider: string, outcome: string): void {
      attempts.inc({ provider, outcome });
    },
    render: () => registry.metrics(),
  };
}

const usage = (inputTokens: number, outputTokens: number, cachedInputTokens = 0) => ({ inputTokens, outputTokens, cachedInputTokens });

const traffic: Entry[] = [
  { route: 'chat', provider: 'openai', model: 'gpt-4o-mini', status: 200, seconds: 0.012, usage: usage(12, 30) },
  { route: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', status: 200, seconds: 0.004, usage: usage(7, 0) },
  { route: 'chat', provider: 'groq', model: 'llama-3.3-70b-versatile', status: 503, seconds: 1.7, errorCode: 'upstream_unavailable' },
  { route: 'chat', provider: 'openai', model: 'gpt-4o-mini', status: 200, seconds: 0.3, usage: usage(100, 5, 64) },
  { route: 'chat-stream', provider: 'openai', model: 'gpt-4o-mini', status: 200, seconds: 2.2, usage: usage(0, 0) },
  { route: 'chat', provider: 'openai', model: 'gpt-4o-mini', status: 400, seconds: 0.001, errorCode: 'invalid_request' },
  // A latency on a bucket's bound, and one past the last bound (counted only in +Inf).
  { route: 'messages', provider: 'anthropic', model: 'claude-sonnet-4', status: 200, seconds: 0.25 },
  { route: 'chat-stream', provider: 'groq', model: 'llama-3.3-70b-versatile', status: 200, seconds: 130 },
];

describe('GatewayMetrics', () => {
  it('renders exactly what direct prom-client calls render, across several scrapes', async () => {
    const metrics = new GatewayMetrics();
    const direct = directMetrics();
    const both = (entry: Entry) => {
      metrics.observe(entry);
      direct.observe(entry);
    };

    expect((await metrics.render()).body).toBe(await direct.render());
    for (const entry of traffic.slice(0, 3)) both(entry);
    metrics.attempt('groq', 'retry');
    direct.attempt('groq', 'retry');
    expect((await metrics.render()).body).toBe(await direct.render());

    // Between scrapes: series seen before, series new since, and series counted only with zero.
    for (const entry of traffic) both(entry);
    for (const outcome of ['ok', 'retry', 'ok', 'failed']) {
      metrics.attempt('openai', outcome);
      direct.attempt('openai', outcome);
    }
    const rendered = (await metrics.render()).body;
    expect(rendered).toBe(await direct.render());
    expect(rendered).toContain('tollgate_requests_total{route="chat",provider="openai",model="gpt-4o-mini",status="200"} 3');
    expect(rendered).toContain('tollgate_tokens_total{provider="openai",model="gpt-4o-mini",kind="input"} 124');
    expect(rendered).toContain('tollgate_tokens_total{provider="openai",model="text-embedding-3-small",kind="output"} 0');

    // A scrape with nothing new changes nothing.
    expect((await metrics.render()).body).toBe(rendered);
  });

  it('keeps counting past the cache cap, uncached', async () => {
    const metrics = new GatewayMetrics();
    const direct = directMetrics();
    // 10,000 cached series is the cap; every model below makes one series of tollgate_requests_total.
    for (let index = 0; index < 10_050; index++) {
      const entry: Entry = { route: 'chat', provider: 'openai', model: `model-${index}`, status: 200, seconds: 0.01 };
      metrics.observe(entry);
      direct.observe(entry);
    }
    const last: Entry = { route: 'chat', provider: 'openai', model: 'model-10049', status: 200, seconds: 0.02 };
    metrics.observe(last);
    direct.observe(last);
    const rendered = (await metrics.render()).body;
    expect(rendered).toBe(await direct.render());
    expect(rendered).toContain('tollgate_requests_total{route="chat",provider="openai",model="model-10049",status="200"} 2');
  });

  it('treats an impossible token count as prom-client did: NaN is counted, a negative amount throws', async () => {
    const metrics = new GatewayMetrics();
    const direct = directMetrics();
    const entry: Entry = { route: 'chat', provider: 'openai', model: 'gpt-4o-mini', status: 200, seconds: 0.01, usage: usage(Number.NaN, 3) };
    metrics.observe(entry);
    direct.observe(entry);
    const negative = { ...entry, usage: usage(-1, 3) };
    expect(() => metrics.observe(negative)).toThrow('It is not possible to decrease a counter');
    expect(() => direct.observe(negative)).toThrow('It is not possible to decrease a counter');
    expect((await metrics.render()).body).toBe(await direct.render());
  });
});

describe('GatewayMetrics: providers\' concurrency', () => {
  it('reports what the read function says at each scrape, and drops a provider it no longer lists', async () => {
    const metrics = new GatewayMetrics();
    let state = [
      { provider: 'openai', inFlight: 3, queued: 2, limit: 5 },
      { provider: 'anthropic', inFlight: 0, queued: 0, limit: 1000 },
    ];
    metrics.watchProviderConcurrency(() => state);
    const first = (await metrics.render()).body;
    expect(first).toContain('tollgate_provider_requests_in_flight{provider="openai"} 3');
    expect(first).toContain('tollgate_provider_requests_queued{provider="openai"} 2');
    expect(first).toContain('tollgate_provider_concurrency_limit{provider="openai"} 5');
    expect(first).toContain('tollgate_provider_concurrency_limit{provider="anthropic"} 1000');

    state = [{ provider: 'openai', inFlight: 1, queued: 0, limit: 5 }];
    const second = (await metrics.render()).body;
    expect(second).toContain('tollgate_provider_requests_in_flight{provider="openai"} 1');
    expect(second).toContain('tollgate_provider_requests_queued{provider="openai"} 0');
    expect(second).not.toContain('provider="anthropic"');
  });
});
