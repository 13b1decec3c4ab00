/**
 * Helpers for the compatible providers' tests: a ProviderContext with sensible defaults, and a way to send an
 * UpstreamRequest with undici the way the core does (whole reply, or streamed through a decoder).
 * Used only by tests; kept beside the code so every provider folder can reach it without importing another provider.
 */
import { request as undiciRequest } from 'undici';
import type { ProviderContext, ResolvedKey, StreamDecoder, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';

/** Options for `createTestContext`; everything has a default. */
export interface TestContextOptions {
  adapterType?: string;
  model?: string;
  baseUrl?: string;
  extraHeaders?: Record<string, string>;
  key?: Partial<ResolvedKey>;
}

/** A ProviderContext for tests: key value `sk-test-key-0001`, fixed clock, no side calls. */
export function createTestContext(options: TestContextOptions = {}): ProviderContext {
  const adapterType = options.adapterType ?? 'openai';
  return {
    provider: {
      name: adapterType,
      adapterType,
      network: {
        ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
        extraHeaders: options.extraHeaders ?? {},
        timeoutMs: 30_000,
        maxRetries: 0,
        retryBackoffInitialMs: 100,
        retryBackoffMaxMs: 1000,
      },
    },
    key: { id: 'key-1', name: 'test key', provider: adapterType, value: 'sk-test-key-0001', ...options.key },
    model: options.model ?? 'gpt-4o-mini',
    requestId: 'request-1',
    send: async () => {
      throw new Error('Tests of compatible providers make no side calls.');
    },
    now: () => 1_700_000_000_000,
  };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

/** Sends a request with undici and reads the whole reply. */
export async function sendUpstream(request: UpstreamRequest): Promise<UpstreamResponse> {
  const response = await undiciRequest(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  const body = new Uint8Array(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: flattenHeaders(response.headers), body };
}

/**
 * Sends a streaming request and feeds every received piece of the body to the decoder, then `finish()`.
 * A non-2xx reply is returned whole instead, for the error parser.
 */
export async function streamUpstream(
  request: UpstreamRequest,
  decoder: StreamDecoder,
): Promise<{ status: number; events: StreamEvent[]; error?: UpstreamResponse }> {
  const response = await undiciRequest(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  if (response.statusCode >= 300) {
    const body = new Uint8Array(await response.body.arrayBuffer());
    return { status: response.statusCode, events: [], error: { status: response.statusCode, headers: flattenHeaders(response.headers), body } };
  }
  const events: StreamEvent[] = [];
  for await (const piece of response.body) events.push(...decoder.push(piece as Uint8Array));
  events.push(...decoder.finish());
  return { status: response.statusCode, events };
}
