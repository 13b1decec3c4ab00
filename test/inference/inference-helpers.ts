/** Small helpers shared by the inference end-to-end tests. */
import { testAdminKey, type LiveGateway } from '../support/live-gateway.js';

/** A seeded PRNG (mulberry32): the same seed gives the same sequence in [0, 1), for deterministic weighted choice. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Network settings that make retries immediate, so tests never wait on backoff. */
export const immediateRetries = { retry_backoff_initial: 0, retry_backoff_max: 1 };

export interface GatewayReply {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON body, or undefined when the body was not JSON. */
  body: any;
}

/** POSTs a JSON body to the gateway over HTTP as a client would (admin key as bearer unless headers say otherwise). */
export async function post(
  tollgate: LiveGateway,
  path: string,
  body: unknown,
  options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<GatewayReply> {
  const response = await fetch(`${tollgate.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** A one-message chat request body. */
export function chatBody(model: string, content = 'hi', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content }], ...extra };
}

/** Reads a key through the management API. */
export async function getKey(tollgate: LiveGateway, provider: string, id: string): Promise<any> {
  const response = await tollgate.request({ method: 'GET', url: `/api/providers/${provider}/keys/${id}` });
  if (response.status !== 200) throw new Error(`reading key ${id} failed: ${response.status} ${response.text}`);
  return response.body;
}
