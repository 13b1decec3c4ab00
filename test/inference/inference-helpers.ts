/** Small helpers shared by the inference end-to-end tests. */
import OpenAI from 'openai';
import type { AppDependencies } from '../../src/server/create-app.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

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

const arrivalWaiters = new WeakMap<unknown[], Array<{ count: number; resolve: () => void }>>();

/**
 * Resolves once `requests` (a mock's record of received requests) holds at least `count` entries. It listens to
 * the array's `push` instead of polling, so a test learns the moment an upstream request arrived.
 */
export function whenReceived(requests: unknown[], count: number): Promise<void> {
  if (requests.length >= count) return Promise.resolve();
  let waiters = arrivalWaiters.get(requests);
  if (!waiters) {
    const list: Array<{ count: number; resolve: () => void }> = [];
    waiters = list;
    arrivalWaiters.set(requests, list);
    const original = Array.prototype.push;
    Object.defineProperty(requests, 'push', {
      configurable: true,
      value(this: unknown[], ...items: unknown[]): number {
        const length = original.apply(this, items);
        for (const waiter of list.filter((entry) => entry.count <= length)) {
          list.splice(list.indexOf(waiter), 1);
          waiter.resolve();
        }
        return length;
      },
    });
  }
  return new Promise((resolve) => waiters.push({ count, resolve }));
}

/** Resolves once some entry of `lines` (e.g. a live gateway's `logs`) satisfies `matches`, listening to pushes. */
export async function whenLogged(lines: string[], matches: (line: string) => boolean): Promise<void> {
  for (;;) {
    const seen = lines.length;
    if (lines.some(matches)) return;
    await whenReceived(lines, seen + 1);
  }
}

/** What an OpenAI SDK chat stream delivered: its text, its last finish reason and its usage chunk, if any. */
export interface ReadChatStream {
  text: string;
  finish: string | null | undefined;
  usage: OpenAI.CompletionUsage | null | undefined;
}

/** Reads an OpenAI SDK chat stream to its end. */
export async function readChatStream(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<ReadChatStream> {
  const read: ReadChatStream = { text: '', finish: undefined, usage: undefined };
  for await (const chunk of stream) {
    read.text += chunk.choices[0]?.delta.content ?? '';
    read.finish = chunk.choices[0]?.finish_reason ?? read.finish;
    if (chunk.usage) read.usage = chunk.usage;
  }
  return read;
}

/** A live gateway in front of an OpenAI mock with one key, and an OpenAI SDK client pointed at the gateway. */
export interface OpenAIThroughGateway {
  mock: OpenAIMock;
  tollgate: LiveGateway;
  client: OpenAI;
  dispose(): Promise<void>;
}

/** The upstream key the mock accepts and the gateway's one `openai` key holds. */
export const openAIUpstreamKey = 'sk-upstream-openai-0001';

/** Starts an OpenAI mock and a live gateway (with `overrides`) that serves `openai/*` models from it. */
export async function startOpenAIThroughGateway(overrides: Partial<AppDependencies> = {}): Promise<OpenAIThroughGateway> {
  const mock = await startOpenAIMock({ apiKeys: [openAIUpstreamKey] });
  const tollgate = await startLiveGateway(overrides);
  await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, retry_backoff_initial: 1, retry_backoff_max: 2 } });
  await tollgate.addKey('openai', { name: 'main', value: openAIUpstreamKey });
  return {
    mock,
    tollgate,
    client: new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 }),
    async dispose() {
      await tollgate.dispose();
      await mock.close();
    },
  };
}
