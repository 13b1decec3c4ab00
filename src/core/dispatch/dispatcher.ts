import { randomUUID } from 'node:crypto';
import { abortSignalOf, type CancelSignal } from '../../spec/cancellation.js';
import { errors, GatewayError, isGatewayError } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { EnvironmentReader } from '../../spec/environment-reader.js';
import { retryAfterMs } from '../../spec/http-headers.js';
import { redactSecrets, secretsOfKey } from '../../spec/redact-secrets.js';
import type { ProviderContext, ResolvedKey, UpstreamResponse } from '../../spec/provider.js';
import type { KeyRecord } from '../../store/key-record.js';
import { resolveKey } from '../routing/resolve-key.js';
import type { RouteTarget, Router } from '../routing/router.js';
import { toProviderSettings } from '../management/provider-settings.js';
import { backoffDelay, sleep } from './backoff.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { transportFailureOf, type UpstreamClient } from './upstream-client.js';

/** What one attempt produced: a value for the client, or the upstream's error reply. */
export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; response: UpstreamResponse };

/** Runs one attempt against one key; may throw transport GatewayErrors (network, timeout, abort). */
export type AttemptRunner<T> = (target: RouteTarget, context: ProviderContext, release: () => void) => Promise<AttemptOutcome<T>>;

/** The result handed back with the value: who served it. */
export interface Served<T> {
  value: T;
  target: RouteTarget;
  key: KeyRecord;
  context: ProviderContext;
  /** Every attempt made, for logs and metrics. */
  attempts: AttemptRecord[];
}

export interface AttemptRecord {
  provider: string;
  model: string;
  keyId: string;
  status: number;
  /** Why the attempt did not serve: 'ok', 'retry', 'rotate', 'failed'. */
  outcome: 'ok' | 'retry' | 'rotate' | 'failed';
}

export interface DispatchRequest {
  targets: RouteTarget[];
  pinnedKeyId?: string;
  requestId: string;
  signal: CancelSignal;
  requestType: string;
}

export interface DispatcherDependencies {
  router: Router;
  client: UpstreamClient;
  clock: Clock;
  readEnvironment: EnvironmentReader;
  random?: () => number;
  /** Records a key's health (e.g. "failing: upstream answered 401"); '' clears it. Runs off the request path. */
  setKeyStatus: (keyId: string, status: string) => void;
  /** Told every attempt of a dispatch once it has ended, whether a key served it or not (for metrics). */
  recordAttempts?: (attempts: readonly AttemptRecord[]) => void;
}

/** One provider's share of the dispatcher's concurrency limits, as the metrics report it. */
export interface ProviderConcurrency {
  provider: string;
  inFlight: number;
  queued: number;
  limit: number;
}

/** The keys excluded from a request's first pick: none. */
const noKeys: ReadonlySet<string> = new Set();

/** Default rest for a key that answered 429 without saying how long. */
const defaultCooldownMs = 5_000;

/**
 * Drives attempts: key choice by weight, retries with backoff on network errors and 5xx, key rotation on 429
 * (with a cooldown) and 401/403 (marking the key), per-provider concurrency, then fallbacks in order.
 */
export class Dispatcher {
  readonly #limiters = new Map<string, ConcurrencyLimiter>();

  constructor(private readonly dependencies: DispatcherDependencies) {}

  /**
   * Each provider's requests in flight and waiting for a slot, against its `concurrency`: read when the metrics are
   * scraped, so the request path pays nothing for it. Providers not yet asked for a slot are absent.
   */
  providerConcurrency(): ProviderConcurrency[] {
    return [...this.#limiters].map(([provider, limiter]) => ({ provider, inFlight: limiter.active, queued: limiter.queued, limit: limiter.limit }));
  }

  async dispatch<T>(request: DispatchRequest, run: AttemptRunner<T>): Promise<Served<T>> {
    const attempts: AttemptRecord[] = [];
    try {
      return await this.#dispatchTargets(request, run, attempts);
    } finally {
      this.dependencies.recordAttempts?.(attempts);
    }
  }

  async #dispatchTargets<T>(request: DispatchRequest, run: AttemptRunner<T>, attempts: AttemptRecord[]): Promise<Served<T>> {
    let lastError: GatewayError | undefined;
    for (const target of request.targets) {
      try {
        return await this.#dispatchTarget(target, request, run, attempts);
      } catch (error) {
        const gatewayError = asGatewayError(error);
        gatewayError.provider ??= target.provider.name;
        gatewayError.model ??= target.requested;
        gatewayError.requestType ??= request.requestType;
        // A client mistake or a cancelled request is not cured by another provider.
        if (!isFallbackWorthy(gatewayError) || request.signal.aborted) throw gatewayError;
        lastError = gatewayError;
      }
    }
    throw lastError ?? errors.unavailable('No provider could serve the request', { requestType: request.requestType });
  }

  async #dispatchTarget<T>(target: RouteTarget, request: DispatchRequest, run: AttemptRunner<T>, attempts: AttemptRecord[]): Promise<Served<T>> {
    const { router, clock } = this.dependencies;
    const settings = toProviderSettings(target.provider);
    const limiter = this.#limiter(target);
    // Made only when a key must be excluded: most requests are served by the first key picked.
    let excluded: Set<string> | undefined;
    let retries = 0;
    let lastError: GatewayError | undefined;
    for (;;) {
      const key = router.pick(target, { pinned: request.pinnedKeyId || undefined, exclude: excluded ?? noKeys });
      if (!key) throw lastError ?? this.#noKeyError(target, request);
      let resolved: ResolvedKey;
      try {
        resolved = resolveKey(key, this.dependencies.readEnvironment);
      } catch (error) {
        (excluded ??= new Set()).add(key.id);
        lastError = asGatewayError(error);
        continue;
      }
      const release = await limiter.acquire(request.signal);
      const context: ProviderContext = {
        provider: settings,
        key: resolved,
        model: target.model,
        requestId: request.requestId,
        send: this.dependencies.client.sender(settings.network.timeoutMs, request.signal),
        now: clock,
        // A standard AbortSignal for the adapter only when it asks for one (its side calls, its polling).
        get signal() {
          return abortSignalOf(request.signal);
        },
      };
      let outcome: AttemptOutcome<T>;
      try {
        outcome = await run(target, context, release);
      } catch (error) {
        release();
        const gatewayError = asGatewayError(error);
        const transport = transportFailureOf(gatewayError);
        if (transport === 'aborted' || request.signal.aborted) throw gatewayError;
        if ((transport === 'network' || transport === 'timeout' || gatewayError.retryable) && retries < settings.network.maxRetries) {
          attempts.push(record(target, key, gatewayError.status, 'retry'));
          await this.#backoff(retries++, settings.network, request.signal);
          lastError = gatewayError;
          continue;
        }
        // The same origin would present the same certificate again; another key may name another endpoint
        // (Azure resources, vLLM servers), so the next key is tried at once and this one is left as it is.
        if (transport === 'certificate') {
          attempts.push(record(target, key, gatewayError.status, 'rotate'));
          (excluded ??= new Set()).add(key.id);
          lastError = gatewayError;
          continue;
        }
        // A credential refused before the model call (Entra ID or Google token endpoints, Replicate's stream
        // creation) is the key's fault just like an upstream 401: try another key and mark this one.
        if (gatewayError.upstream && (gatewayError.status === 401 || gatewayError.status === 403)) {
          attempts.push(record(target, key, gatewayError.status, 'rotate'));
          this.#markFailing(target, key, gatewayError.status, gatewayError.code);
          (excluded ??= new Set()).add(key.id);
          lastError = gatewayError;
          continue;
        }
        attempts.push(record(target, key, gatewayError.status, 'failed'));
        throw gatewayError;
      }
      if (!outcome.ok) {
        const alternate = target.adapter.credentialFallback?.(outcome.response, context);
        if (alternate) {
          release();
          const alternateRelease = await limiter.acquire(request.signal);
          try {
            outcome = await run(target, alternate, alternateRelease);
          } catch (error) {
            alternateRelease();
            throw asGatewayError(error);
          }
        }
      }
      if (outcome.ok) {
        attempts.push(record(target, key, 200, 'ok'));
        if (key.status.startsWith('failing')) this.dependencies.setKeyStatus(key.id, '');
        return { value: outcome.value, target, key, context, attempts };
      }
      release();
      const upstream = this.#upstreamError(target, context, outcome.response, request);
      const status = outcome.response.status;
      if (status === 429) {
        attempts.push(record(target, key, status, 'rotate'));
        router.coolDown(key.id, upstream.retryAfterMs ?? defaultCooldownMs);
        (excluded ??= new Set()).add(key.id);
        lastError = upstream;
        continue;
      }
      // The adapter's mapping counts too: Google answers an invalid Gemini API key with 400 API_KEY_INVALID.
      if (status === 401 || status === 403 || upstream.status === 401 || upstream.status === 403) {
        attempts.push(record(target, key, status, 'rotate'));
        this.#markFailing(target, key, status, upstream.code);
        (excluded ??= new Set()).add(key.id);
        lastError = upstream;
        continue;
      }
      if ((status >= 500 || status === 408) && retries < settings.network.maxRetries) {
        attempts.push(record(target, key, status, 'retry'));
        await this.#backoff(retries++, settings.network, request.signal);
        lastError = upstream;
        continue;
      }
      attempts.push(record(target, key, status, 'failed'));
      throw upstream;
    }
  }

  #markFailing(target: RouteTarget, key: KeyRecord, status: number, code: string | null): void {
    // A keyless provider's stand-in key is not stored, so there is no status to record.
    if (target.provider.keyless) return;
    this.dependencies.setKeyStatus(key.id, `failing: upstream answered ${status} (${code}) at ${new Date(this.dependencies.clock()).toISOString()}`);
  }

  #upstreamError(target: RouteTarget, context: ProviderContext, response: UpstreamResponse, request: DispatchRequest): GatewayError {
    let mapped;
    try {
      mapped = target.adapter.parseError(response, context);
    } catch {
      mapped = { status: response.status >= 500 ? 502 : response.status, type: 'upstream_error', code: null, message: `Upstream answered ${response.status}` };
    }
    const retryAfter = mapped.retryAfterMs ?? retryAfterMs(response.headers, this.dependencies.clock());
    const headers: Record<string, string> = {};
    if (retryAfter !== undefined && (mapped.status === 429 || mapped.status === 503)) headers['retry-after'] = String(Math.ceil(retryAfter / 1000));
    return new GatewayError({
      status: mapped.status,
      type: (mapped.type || 'upstream_error') as GatewayError['type'],
      code: mapped.code ?? `upstream_${response.status}`,
      // Adapters redact what they know to; this catches a credential echoed by any provider's error text.
      message: redactSecrets(mapped.message, secretsOfKey(context.key)),
      param: mapped.param ?? null,
      provider: target.provider.name,
      model: target.requested,
      requestType: request.requestType,
      headers,
      upstream: true,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    });
  }

  #noKeyError(target: RouteTarget, request: DispatchRequest): GatewayError {
    const { router } = this.dependencies;
    const details = { provider: target.provider.name, model: target.requested, requestType: request.requestType, param: 'model' };
    if (request.pinnedKeyId !== undefined) {
      return errors.badRequest(
        `Key "${request.pinnedKeyId}" (x-tollgate-key-id) is not an enabled key of provider "${target.provider.name}" that serves "${target.model}"`,
        { ...details, code: 'pinned_key_not_eligible', param: 'x-tollgate-key-id' },
      );
    }
    const cooling = router.shortestCooldown(target);
    if (cooling !== undefined) {
      return errors.rateLimited(`Every key of provider "${target.provider.name}" for "${target.model}" is rate limited; retry later`, {
        ...details,
        code: 'all_keys_rate_limited',
        headers: { 'retry-after': String(Math.max(1, Math.ceil(cooling / 1000))) },
        retryAfterMs: cooling,
      });
    }
    return errors.badRequest(`Provider "${target.provider.name}" has no enabled key that serves model "${target.model}"`, {
      ...details,
      code: 'no_eligible_key',
    });
  }

  #limiter(target: RouteTarget): ConcurrencyLimiter {
    const { concurrency, buffer_size: bufferSize } = target.provider.concurrency;
    let limiter = this.#limiters.get(target.provider.name);
    if (!limiter) {
      limiter = new ConcurrencyLimiter(concurrency, bufferSize, target.provider.name);
      this.#limiters.set(target.provider.name, limiter);
    } else {
      limiter.configure(concurrency, bufferSize);
    }
    return limiter;
  }

  async #backoff(attempt: number, network: { retryBackoffInitialMs: number; retryBackoffMaxMs: number }, signal: CancelSignal): Promise<void> {
    const delay = backoffDelay(attempt, network.retryBackoffInitialMs, network.retryBackoffMaxMs, this.dependencies.random);
    try {
      await sleep(delay, signal);
    } catch {
      throw new GatewayError({ status: 499, type: 'invalid_request_error', code: 'client_closed_request', message: 'The request was cancelled' });
    }
  }
}

function record(target: RouteTarget, key: KeyRecord, status: number, outcome: AttemptRecord['outcome']): AttemptRecord {
  return { provider: target.provider.name, model: target.model, keyId: key.id, status, outcome };
}

function asGatewayError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return errors.badGateway(`Upstream exchange failed: ${message}`, { code: 'upstream_exchange_failed', cause: error });
}

/** Fallbacks are for provider failures (exhausted retries, rate limits, outages), not for the client's own mistakes. */
function isFallbackWorthy(error: GatewayError): boolean {
  return error.status === 429 || error.status >= 500 || error.status === 401 || error.status === 403 || error.code === 'no_eligible_key' || error.code === 'key_env_missing';
}

/** A fresh id for a synthesised completion. */
export function completionId(): string {
  return `chatcmpl-${randomUUID().replace(/-/g, '')}`;
}
