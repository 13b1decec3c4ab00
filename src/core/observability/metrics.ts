import { Counter, Gauge, Registry, collectDefaultMetrics, type Histogram } from 'prom-client';
import type { TokenUsage } from '../../spec/usage.js';

/**
 * The most label tuples one metric keeps in its cache. Label values are routes, providers, models, statuses and
 * error codes, a few hundred at most in a deployment; the cap only bounds memory should something mint values
 * without end, and calls past it go to prom-client uncached (slower, still counted).
 */
const maxCachedSeries = 10_000;

/** Tollgate's Prometheus metrics, in a registry of their own (one per app, so tests do not share state). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: CounterCells;
  readonly #errors: CounterCells;
  readonly #latency: HistogramCells;
  readonly #tokens: CounterCells;
  readonly #attempts: CounterCells;
  /** Rare by nature (a counter store or a database failing), so counted through prom-client directly. */
  readonly #meteringFailures: Counter<'stage'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_process_' });
    this.#requests = new CounterCells({
      name: 'tollgate_requests_total',
      help: 'Inference requests by route, serving provider and model, and HTTP status',
      labelNames: ['route', 'provider', 'model', 'status'],
      registers: [this.registry],
    });
    this.#errors = new CounterCells({
      name: 'tollgate_errors_total',
      help: 'Inference requests that ended in an error, by error code',
      labelNames: ['route', 'provider', 'code'],
      registers: [this.registry],
    });
    this.#latency = new HistogramCells({
      name: 'tollgate_request_duration_seconds',
      help: 'Time from request to the last byte sent, by route and provider',
      labelNames: ['route', 'provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registry: this.registry,
    });
    this.#tokens = new CounterCells({
      name: 'tollgate_tokens_total',
      help: 'Tokens metered, by provider, model and kind (input, output, cached)',
      labelNames: ['provider', 'model', 'kind'],
      registers: [this.registry],
    });
    this.#attempts = new CounterCells({
      name: 'tollgate_upstream_attempts_total',
      help: 'Upstream attempts by provider and outcome (ok, retry, rotate, failed)',
      labelNames: ['provider', 'outcome'],
      registers: [this.registry],
    });
    this.#meteringFailures = new Counter({
      name: 'tollgate_metering_failures_total',
      help: 'Metering work that failed after the answer: settlements the limit counters did not take (stage "settle") and usage-ledger batches not written yet (stage "ledger")',
      labelNames: ['stage'],
      registers: [this.registry],
    });
  }

  /** Records one finished inference request. */
  observe(entry: { route: string; provider: string; model: string; status: number; seconds: number; usage?: TokenUsage; errorCode?: string }): void {
    this.#requests.inc([entry.route, entry.provider, entry.model, String(entry.status)], 1);
    this.#latency.observe([entry.route, entry.provider], entry.seconds);
    if (entry.errorCode) this.#errors.inc([entry.route, entry.provider, entry.errorCode], 1);
    if (entry.usage) {
      this.#tokens.inc([entry.provider, entry.model, 'input'], entry.usage.inputTokens);
      this.#tokens.inc([entry.provider, entry.model, 'output'], entry.usage.outputTokens);
      if (entry.usage.cachedInputTokens > 0) this.#tokens.inc([entry.provider, entry.model, 'cached'], entry.usage.cachedInputTokens);
    }
  }

  /** Records one upstream attempt of a request. */
  attempt(provider: string, outcome: string): void {
    this.#attempts.inc([provider, outcome], 1);
  }

  /**
   * Reports each provider's requests in flight, waiting for a slot, and its concurrency limit, read from `read` when
   * the registry is scraped: a queue building up in front of a provider (`concurrency_and_buffer_size`) shows before
   * its requests are refused with 429s.
   */
  watchProviderConcurrency(read: () => ReadonlyArray<{ provider: string; inFlight: number; queued: number; limit: number }>): void {
    const gauge = (name: string, help: string, value: (entry: ReturnType<typeof read>[number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['provider'],
        registers: [this.registry],
        collect() {
          // Reset first, so that a provider whose limiter is gone (renamed, removed) does not linger.
          this.reset();
          for (const entry of read()) this.set({ provider: entry.provider }, value(entry));
        },
      });
    };
    gauge('tollgate_provider_requests_in_flight', 'Upstream requests holding one of a provider\'s concurrency slots, streams until they end', (entry) => entry.inFlight);
    gauge('tollgate_provider_requests_queued', 'Requests waiting for a slot of a provider (refused with 429 once buffer_size are waiting)', (entry) => entry.queued);
    gauge('tollgate_provider_concurrency_limit', "A provider's concurrency setting: the most requests in flight at once", (entry) => entry.limit);
  }

  /** Records metering work that failed in the background, where no request can report it. */
  meteringFailure(stage: 'settle' | 'ledger'): void {
    this.#meteringFailures.inc({ stage });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** What one label tuple of a counter has counted since the last scrape. */
interface CounterCell {
  labels: Record<string, string>;
  pending: number;
}

/** A tree of Maps, one level per label, whose leaves are what is cached for a label tuple. */
type LabelTree<Leaf> = Map<string, LabelTree<Leaf> | Leaf>;

/**
 * A prom-client counter whose increments are summed in plain numbers per label tuple and handed to prom-client when
 * the registry is read. prom-client builds a string key from the label object and checks every label name on each
 * `inc`, also through a `labels(...)` child, which made metrics a measurable part of a request's CPU; a Map lookup
 * per label value does not. The output is the same: prom-client has every series from its first count on, in the
 * same order, and receives the same sums.
 */
class CounterCells {
  readonly #counter: Counter<string>;
  readonly #labelNames: readonly string[];
  readonly #tree: LabelTree<CounterCell> = new Map();
  /** In the order the series were first counted, the order prom-client lists them in. */
  readonly #cells: CounterCell[] = [];

  constructor(configuration: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    this.#labelNames = configuration.labelNames;
    this.#counter = new Counter({ ...configuration, collect: () => this.#handOver() });
  }

  /** Adds `amount` to the series of `values`, given in the order of the label names. */
  inc(values: readonly string[], amount: number): void {
    // A negative or non-finite amount goes straight to prom-client, which treats it as it always did (it throws for a
    // negative or infinite one, here in the caller); summed into a cell it would fail at every scrape instead.
    const cell = amount >= 0 && amount < Infinity ? this.#cellOf(values) : undefined;
    if (cell) cell.pending += amount;
    else this.#counter.inc(labelsOf(this.#labelNames, values), amount);
  }

  #cellOf(values: readonly string[]): CounterCell | undefined {
    const found = findLeaf(this.#tree, values);
    if (found || this.#cells.length >= maxCachedSeries) return found;
    const cell: CounterCell = { labels: labelsOf(this.#labelNames, values), pending: 0 };
    setLeaf(this.#tree, values, cell);
    this.#cells.push(cell);
    // prom-client gets the series now, at 0: it lists series in the order they were created, and a series counted
    // only with 0 (a request without output tokens) must appear as it did before.
    this.#counter.inc(cell.labels, 0);
    return cell;
  }

  /** Runs when the registry is read (prom-client's collect hook), before the counter's values are. */
  #handOver(): void {
    for (const cell of this.#cells) {
      if (cell.pending === 0) continue;
      this.#counter.inc(cell.labels, cell.pending);
      cell.pending = 0;
    }
  }
}

/** What one label tuple of a histogram has observed: a count per bucket (not cumulative), the sum and the count. */
interface HistogramCell {
  labels: Record<string, string>;
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A histogram counted in plain numbers per label tuple and listed to prom-client's registry in the shape prom-client's
 * own histograms list themselves (`get()`), so that the exposition text is the same. prom-client's `observe`, even
 * through a `labels(...)` child, builds a label object and a string key and checks every label on each call (~1 % of
 * a request's CPU); here an observation is a Map lookup per label value and an increment. Its labels (route and
 * serving provider) are named by the gateway, never by clients, so their tuples are few and need no cap.
 */
class HistogramCells {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  readonly #bounds: readonly number[];
  #tree: LabelTree<HistogramCell> = new Map();
  /** In the order the series were first observed, the order prom-client lists them in. */
  #cells: HistogramCell[] = [];

  constructor(configuration: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registry: Registry }) {
    this.name = configuration.name;
    this.help = configuration.help;
    this.#labelNames = configuration.labelNames;
    this.#bounds = configuration.buckets;
    // The registry reads any object with a name, get() and reset(); its types list only prom-client's classes.
    configuration.registry.registerMetric(this as unknown as Histogram<string>);
  }

  /** Observes `value` in the series of `values`, given in the order of the label names. */
  observe(values: readonly string[], value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let cell = findLeaf(this.#tree, values);
    if (!cell) {
      cell = { labels: labelsOf(this.#labelNames, values), buckets: this.#bounds.map(() => 0), sum: 0, count: 0 };
      setLeaf(this.#tree, values, cell);
      this.#cells.push(cell);
    }
    const bounds = this.#bounds;
    for (let index = 0; index < bounds.length; index++) {
      if (value <= bounds[index]!) {
        cell.buckets[index]! += 1;
        break;
      }
    }
    cell.sum += value;
    cell.count += 1;
  }

  /** The series as prom-client's histograms list them: cumulative buckets with `le` first, then +Inf, sum, count. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> }> {
    const bucketName = `${this.name}_bucket`;
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const cell of this.#cells) {
      let cumulative = 0;
      this.#bounds.forEach((bound, index) => {
        cumulative += cell.buckets[index]!;
        values.push({ labels: { le: bound, ...cell.labels }, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf', ...cell.labels }, value: cell.count, metricName: bucketName });
      values.push({ labels: { ...cell.labels }, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...cell.labels }, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#tree = new Map();
    this.#cells = [];
  }
}

function labelsOf(labelNames: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  labelNames.forEach((name, index) => {
    labels[name] = values[index]!;
  });
  return labels;
}

function findLeaf<Leaf>(tree: LabelTree<Leaf>, values: readonly string[]): Leaf | undefined {
  let level = tree;
  const last = values.length - 1;
  for (let index = 0; index < last; index++) {
    const next = level.get(values[index]!) as LabelTree<Leaf> | undefined;
    if (!next) return undefined;
    level = next;
  }
  return level.get(values[last]!) as Leaf | undefined;
}

function setLeaf<Leaf>(tree: LabelTree<Leaf>, values: readonly string[], leaf: Leaf): void {
  let level = tree;
  const last = values.length - 1;
  for (let index = 0; index < last; index++) {
    let next = level.get(values[index]!) as LabelTree<Leaf> | undefined;
    if (!next) {
      next = new Map();
      level.set(values[index]!, next);
    }
    level = next;
  }
  level.set(values[last]!, leaf);
}
