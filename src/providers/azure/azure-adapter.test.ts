/**
 * The Azure adapter against the local Azure mock, over real HTTP (undici): api-key auth with the key2
 * fallback, Entra client credentials with one shared token fetch, streams with Azure's annotation chunks.
 */
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureMockEmbedding, startAzureMock, type AzureMock } from '../../../test/mocks/azure-mock.js';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, ResolvedKey, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { createAzureAdapter, type AzureAdapter } from './index.js';

const PRIMARY = 'primary-0123456789abcdef';
const SECONDARY = 'secondary-0123456789abcdef';
const ENTRA = { tenantId: 'contoso-tenant', clientId: 'client-app-id', clientSecret: 'client~secret~value' };

let mock: AzureMock;
let adapter: AzureAdapter;

beforeAll(async () => {
  mock = await startAzureMock({ apiKeys: [SECONDARY], deployments: { 'chat-prod': 'gpt-4o', 'embed-prod': 'text-embedding-3-small' }, entra: { ...ENTRA, expiresInSeconds: 3600 } });
  adapter = createAzureAdapter({ azureAuthorityHost: mock.baseUrl });
});

afterAll(async () => {
  await mock.close();
});

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : value;
  return result;
}

async function send(upstream: UpstreamRequest): Promise<UpstreamResponse> {
  const response = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  return { status: response.statusCode, headers: flatten(response.headers), body: new Uint8Array(await response.body.arrayBuffer()) };
}

function contextFor(azure: Partial<NonNullable<ResolvedKey['azure']>>, value = '', clock: () => number = () => 1_000_000): ProviderContext {
  return {
    provider: { name: 'azure', adapterType: 'azure', network: { extraHeaders: {}, timeoutMs: 10_000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 } },
    key: {
      id: 'key-1',
      name: 'primary',
      provider: 'azure',
      value,
      azure: { endpoint: mock.baseUrl, deployments: { 'gpt-4o': 'chat-prod', 'text-embedding-3-small': 'embed-prod' }, scopes: [], ...azure },
    },
    model: 'gpt-4o',
    requestId: 'req-1',
    send,
    now: clock,
  };
}

const hello: ChatCompletionRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello Azure' }] };

/** What the core does with the fallback hook: one more attempt with the context it returns, if any. */
async function chatWithFallback(context: ProviderContext, body: ChatCompletionRequest = hello): Promise<UpstreamResponse[]> {
  const replies = [await send(await adapter.chat.buildRequest(body, context, { stream: false }))];
  const fallback = adapter.credentialFallback(replies[0]!, context);
  if (fallback !== undefined) replies.push(await send(await adapter.chat.buildRequest(body, fallback, { stream: false })));
  return replies;
}

describe('Azure adapter with API keys', () => {
  it('calls the mapped deployment with api-version and api-key', async () => {
    const context = contextFor({}, SECONDARY);
    const [response] = await chatWithFallback(context);
    expect(response?.status).toBe(200);
    const recorded = mock.requests.at(-1)!;
    expect([recorded.deployment, recorded.apiVersion, recorded.headers['api-key']]).toEqual(['chat-prod', '2024-10-21', SECONDARY]);
    const result = await adapter.chat.parseResponse(response!, context);
    expect(result.completion.choices[0]?.message.content).toBe('Echo: Hello Azure');
  });

  it('retries once with key2 after the primary key is refused with 401', async () => {
    const replies = await chatWithFallback(contextFor({ key2: SECONDARY }, PRIMARY));
    expect(replies.map((reply) => reply.status)).toEqual([401, 200]);
    expect(mock.requests.slice(-2).map((request) => request.headers['api-key'])).toEqual([PRIMARY, SECONDARY]);

    const bothWrong = await chatWithFallback(contextFor({ key2: 'also-wrong-0123456789' }, PRIMARY));
    expect(bothWrong.map((reply) => reply.status)).toEqual([401, 401]);
    const context = contextFor({ key2: 'also-wrong-0123456789' }, PRIMARY);
    expect(adapter.parseError(bothWrong[1]!, context)).toMatchObject({ status: 401, type: 'authentication_error' });
  });

  it('sends no configured credential header beside its own', async () => {
    const base = contextFor({}, SECONDARY);
    const context = { ...base, provider: { ...base.provider, network: { ...base.provider.network, extraHeaders: { Authorization: 'Bearer stray', 'X-Team': 'blue' } } } };
    const upstream = await adapter.chat.buildRequest(hello, context, { stream: false });
    expect(upstream.headers).toMatchObject({ 'api-key': SECONDARY, 'x-team': 'blue' });
    expect(upstream.headers).not.toHaveProperty('authorization');
    const entra = contextFor(ENTRA);
    const withEntra = { ...entra, provider: { ...entra.provider, network: { ...entra.provider.network, extraHeaders: { 'API-Key': 'stray-key' } } } };
    const bearer = await adapter.chat.buildRequest(hello, withEntra, { stream: false });
    expect(bearer.headers.authorization).toMatch(/^Bearer mock-entra-token-\d+$/);
    expect(bearer.headers).not.toHaveProperty('api-key');
  });

  it('does not fall back when the primary key works', async () => {
    const replies = await chatWithFallback(contextFor({ key2: PRIMARY }, SECONDARY));
    expect(replies.map((reply) => reply.status)).toEqual([200]);
  });

  it('streams without the annotation-only chunks', async () => {
    const context = contextFor({}, SECONDARY);
    const upstream = await adapter.chat.buildRequest({ ...hello, stream: true }, context, { stream: true });
    const response = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
    expect(response.statusCode).toBe(200);
    const decoder = adapter.chat.createStreamDecoder(context);
    const events: StreamEvent[] = [];
    for await (const read of response.body) {
      const bytes = read as Buffer;
      for (let start = 0; start < bytes.length; start += 2) events.push(...decoder.push(bytes.subarray(start, start + 2)));
    }
    events.push(...decoder.finish());
    const chunks = events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(chunks.every((chunk) => chunk.model === 'gpt-4o')).toBe(true);
    expect(chunks.every((chunk) => chunk.choices.every((choice) => choice.delta !== undefined))).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Echo: Hello Azure');
    expect(decoder.usage()).toMatchObject({ inputTokens: 3, outputTokens: 5 });
  });

  it('maps a blocked prompt and an unknown deployment', async () => {
    const context = contextFor({}, SECONDARY);
    const [blocked] = await chatWithFallback(context, { model: 'gpt-4o', messages: [{ role: 'user', content: 'BLOCKME please' }] });
    expect(adapter.parseError(blocked!, context)).toMatchObject({ status: 400, code: 'content_filter' });

    const unknown = contextFor({ deployments: {} }, SECONDARY);
    const [missing] = await chatWithFallback(unknown);
    expect(missing?.status).toBe(404);
    expect(adapter.parseError(missing!, unknown)).toMatchObject({ status: 404, type: 'not_found_error', code: 'DeploymentNotFound' });
  });

  it('embeds through the embeddings deployment', async () => {
    const context = { ...contextFor({}, SECONDARY), model: 'text-embedding-3-small' };
    const request = { model: 'text-embedding-3-small', input: ['alpha', 'beta'] };
    const [upstream] = await adapter.embeddings!.buildRequests(request, context);
    expect(upstream?.url).toContain('/openai/deployments/embed-prod/embeddings?api-version=2024-10-21');
    const response = await send(upstream!);
    expect(response.status).toBe(200);
    const { result } = adapter.embeddings!.parseResponses([response], request, context);
    expect(result.data.map((entry) => entry.embedding)).toEqual([azureMockEmbedding('alpha'), azureMockEmbedding('beta')]);
  });
});

describe("Azure adapter on Azure's v1 API (api-version v1 or preview)", () => {
  it('addresses /openai/v1 with the deployment as the model, for chat and embeddings', async () => {
    const context = contextFor({ apiVersion: 'v1' }, SECONDARY);
    const chat = await adapter.chat.buildRequest({ ...hello, max_tokens: 10 }, context, { stream: false });
    expect(chat.url).toBe(`${mock.baseUrl}/openai/v1/chat/completions`);
    expect(JSON.parse(String(chat.body))).toMatchObject({ model: 'chat-prod', max_completion_tokens: 10 });
    const response = await send(chat);
    expect(response.status).toBe(200);
    expect((await adapter.chat.parseResponse(response, context)).completion.choices[0]?.message.content).toBe('Echo: Hello Azure');

    const [embedding] = await adapter.embeddings!.buildRequests({ model: 'text-embedding-3-small', input: 'alpha' }, { ...context, model: 'text-embedding-3-small' });
    expect(embedding?.url).toBe(`${mock.baseUrl}/openai/v1/embeddings`);
    expect((await send(embedding!)).status).toBe(200);

    const preview = await adapter.chat.buildRequest(hello, contextFor({ apiVersion: 'preview' }, SECONDARY), { stream: false });
    expect(preview.url).toBe(`${mock.baseUrl}/openai/v1/chat/completions?api-version=preview`);
  });

  it('takes an endpoint given as the base URL of Azure\'s v1 documentation (…/openai/v1/) without doubling the path', async () => {
    for (const endpoint of [`${mock.baseUrl}/openai/v1/`, `${mock.baseUrl}/openai/v1`, `${mock.baseUrl}/openai/`]) {
      const upstream = await adapter.chat.buildRequest(hello, contextFor({ apiVersion: 'v1', endpoint }, SECONDARY), { stream: false });
      expect(upstream.url).toBe(`${mock.baseUrl}/openai/v1/chat/completions`);
      const classic = await adapter.chat.buildRequest(hello, contextFor({ endpoint }, SECONDARY), { stream: false });
      expect(classic.url).toBe(`${mock.baseUrl}/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21`);
    }
  });

  it('takes a Responses request as written on the v1 API only', async () => {
    expect(adapter.chat.nativeFormats).toContain('openai-responses');
    expect(adapter.chat.takesNative!(contextFor({ apiVersion: 'v1' }), 'openai-responses')).toBe(true);
    expect(adapter.chat.takesNative!(contextFor({ apiVersion: 'preview' }), 'openai-responses')).toBe(true);
    expect(adapter.chat.takesNative!(contextFor({ apiVersion: '2025-04-01-preview' }), 'openai-responses')).toBe(false);
    expect(adapter.chat.takesNative!(contextFor({}), 'openai-responses')).toBe(false);
    // An OpenAI deployment takes no Messages request as written, whatever its api-version.
    expect(adapter.chat.takesNative!(contextFor({ apiVersion: 'v1' }), 'anthropic-messages')).toBe(false);

    const context = contextFor({ apiVersion: 'v1' }, SECONDARY);
    const native = { format: 'openai-responses' as const, body: { model: 'azure/gpt-4o', input: 'Hello Azure', store: false, service_tier: 'priority' } };
    const upstream = await adapter.chat.buildRequest(hello, context, { stream: false, native });
    expect(upstream.url).toBe(`${mock.baseUrl}/openai/v1/responses`);
    // Under the deployment's name; the priced service tier stays behind, as for OpenAI.
    expect(JSON.parse(String(upstream.body))).toEqual({ model: 'chat-prod', input: 'Hello Azure', store: false });
    const response = await send(upstream);
    expect(response.status).toBe(200);
    const parsed = await adapter.chat.parseResponse(response, context, { native: true });
    expect(parsed.nativeSound).toBe(true);
    expect(parsed.completion.choices[0]?.message.content).toBe('Hello Azure');
    expect(parsed.usage?.outputTokens).toBeGreaterThan(0);
  });
});

describe('Azure adapter with Entra ID client credentials', () => {
  it('fetches the token once for 20 concurrent requests and reuses it', async () => {
    const fresh = createAzureAdapter({ azureAuthorityHost: mock.baseUrl });
    const before = mock.tokenRequests.length;
    const context = contextFor(ENTRA);
    const upstreams = await Promise.all(Array.from({ length: 20 }, () => fresh.chat.buildRequest(hello, context, { stream: false })));
    expect(mock.tokenRequests.length - before).toBe(1);
    expect(mock.tokenRequests.at(-1)).toEqual({
      grant_type: 'client_credentials',
      client_id: ENTRA.clientId,
      client_secret: ENTRA.clientSecret,
      scope: 'https://cognitiveservices.azure.com/.default',
    });
    const token = mock.issuedTokens.at(-1);
    expect(new Set(upstreams.map((upstream) => upstream.headers.authorization))).toEqual(new Set([`Bearer ${token}`]));
    expect(upstreams[0]?.headers['api-key']).toBeUndefined();
    const replies = await Promise.all(upstreams.map((upstream) => send(upstream)));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
  });

  it('refreshes the token five minutes before it expires, by the injected clock', async () => {
    const fresh = createAzureAdapter({ azureAuthorityHost: mock.baseUrl });
    let now = 50_000_000;
    const context = contextFor(ENTRA, '', () => now);
    const before = mock.tokenRequests.length;
    const first = await fresh.chat.buildRequest(hello, context, { stream: false });
    const refreshAt = 50_000_000 + 3600 * 1000 - 5 * 60 * 1000;
    now = refreshAt - 1;
    const cached = await fresh.chat.buildRequest(hello, context, { stream: false });
    expect(cached.headers.authorization).toBe(first.headers.authorization);
    expect(mock.tokenRequests.length - before).toBe(1);
    now = refreshAt;
    const renewed = await fresh.chat.buildRequest(hello, context, { stream: false });
    expect(mock.tokenRequests.length - before).toBe(2);
    expect(renewed.headers.authorization).not.toBe(first.headers.authorization);
    expect((await send(renewed)).status).toBe(200);
  });

  it('reports refused client credentials without the secret, and tries again on the next call', async () => {
    const fresh = createAzureAdapter({ azureAuthorityHost: mock.baseUrl });
    const context = contextFor({ ...ENTRA, clientSecret: 'wrong~secret~value' });
    const before = mock.tokenRequests.length;
    const failures = await Promise.all([1, 2].map(() => fresh.chat.buildRequest(hello, context, { stream: false }).catch((error: unknown) => error)));
    for (const failure of failures) {
      expect(isGatewayError(failure) && [failure.status, failure.code]).toEqual([401, 'upstream_token_error']);
      expect(String((failure as Error).message)).toMatch(/invalid_client/);
      expect(String((failure as Error).message)).not.toContain('wrong~secret~value');
    }
    expect(mock.tokenRequests.length - before).toBe(1);
    await fresh.chat.buildRequest(hello, context, { stream: false }).catch(() => undefined);
    expect(mock.tokenRequests.length - before).toBe(2);
  });
});
