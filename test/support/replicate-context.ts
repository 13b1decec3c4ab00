import type { HttpSend, ProviderContext, ResolvedKey } from '../../src/spec/provider.js';

/** What a test sets of a Replicate adapter's context; the rest is one provider with one key, `main`. */
export interface ReplicateContextOptions {
  baseUrl?: string;
  key?: Partial<ResolvedKey>;
  model?: string;
  requestId?: string;
  now?: () => number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The context the core hands the Replicate adapter for one attempt, with the test's `send`. */
export function replicateContext(send: HttpSend, options: ReplicateContextOptions = {}): ProviderContext {
  return {
    provider: {
      name: 'replicate',
      adapterType: 'replicate',
      network: {
        ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
        extraHeaders: {},
        timeoutMs: options.timeoutMs ?? 30_000,
        maxRetries: 0,
        retryBackoffInitialMs: 0,
        retryBackoffMaxMs: 0,
      },
    },
    key: { id: 'key-1', name: 'main', provider: 'replicate', value: 'r8_key', ...options.key },
    model: options.model ?? 'meta/meta-llama-3-8b-instruct',
    requestId: options.requestId ?? 'req-1',
    send,
    now: options.now ?? (() => 1_700_000_000_000),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
}
