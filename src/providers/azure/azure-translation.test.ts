import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, ResolvedKey, StreamEvent, UpstreamResponse } from '../../spec/provider.js';
import { secondaryKeyContext } from './azure-auth.js';
import { parseAzureError } from './azure-errors.js';
import { withoutFilterAnnotations } from './azure-stream.js';
import { azureOperationUrl } from './azure-url.js';
import { createAzureAdapter } from './index.js';

function contextFor(azure: Partial<NonNullable<ResolvedKey['azure']>> = {}, baseUrl?: string, value = 'primary-key-0123456789'): ProviderContext {
  return {
    provider: {
      name: 'azure',
      adapterType: 'azure',
      network: { ...(baseUrl === undefined ? {} : { baseUrl }), extraHeaders: {}, timeoutMs: 1000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 },
    },
    key: { id: 'k', name: 'k', provider: 'azure', value, azure: { endpoint: 'https://contoso.openai.azure.com/', deployments: {}, scopes: [], ...azure } },
    model: 'gpt-4o',
    requestId: 'req-1',
    send: async () => {
      throw new Error('no network in translation tests');
    },
    now: () => 0,
  };
}

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

function reply(status: number, body: Uint8Array | string, headers: Record<string, string> = {}): UpstreamResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? new TextEncoder().encode(body) : body };
}

describe('azureOperationUrl', () => {
  it('builds the deployment URL from the key endpoint with the default api-version', () => {
    expect(azureOperationUrl(contextFor(), 'chat/completions')).toBe(
      'https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
    );
  });

  it('uses the deployment mapping, the key api-version and the provider base URL', () => {
    const context = contextFor({ deployments: { 'gpt-4o': 'prod chat' }, apiVersion: '2025-01-01-preview' }, 'https://gateway.example.com/openai/');
    expect(azureOperationUrl(context, 'embeddings')).toBe(
      'https://gateway.example.com/openai/deployments/prod%20chat/embeddings?api-version=2025-01-01-preview',
    );
  });

  it('fails clearly without an endpoint', () => {
    const context = contextFor({ endpoint: '' });
    let error: unknown;
    try {
      azureOperationUrl(context, 'chat/completions');
    } catch (caught) {
      error = caught;
    }
    expect(isGatewayError(error) && error.code).toBe('provider_endpoint_missing');
  });
});

describe('Azure chat translation', () => {
  const adapter = createAzureAdapter({});

  it('sends the OpenAI body with the api-key header and forwards the documented reply untouched', async () => {
    const upstream = await adapter.chat.buildRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, contextFor(), { stream: true });
    expect(upstream.headers).toMatchObject({ 'api-key': 'primary-key-0123456789', 'content-type': 'application/json', accept: 'text/event-stream' });
    expect(upstream.headers.authorization).toBeUndefined();
    expect(JSON.parse(String(upstream.body))).toMatchObject({ stream: true, stream_options: { include_usage: true } });

    const result = await adapter.chat.parseResponse(reply(200, fixture('chat-completion.json')), contextFor());
    expect(result.passthrough).toBe(true);
    expect(result.completion.choices[0]?.message.content).toBe('Yes, other Azure AI services also support customer managed keys.');
    expect(result.usage).toEqual({ inputTokens: 33, outputTokens: 557, cachedInputTokens: 0 });
  });

  it('sends the output limit as max_completion_tokens where the api-version knows it, and as sent where it does not', async () => {
    const request: ChatCompletionRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 50 };
    for (const [apiVersion, expected] of [
      [undefined, { max_completion_tokens: 50 }],
      ['2024-09-01-preview', { max_completion_tokens: 50 }],
      ['2025-04-01-preview', { max_completion_tokens: 50 }],
      ['2024-06-01', { max_tokens: 50 }],
      ['2024-08-01-preview', { max_tokens: 50 }],
    ] as const) {
      const upstream = await adapter.chat.buildRequest(request, contextFor(apiVersion === undefined ? {} : { apiVersion }), { stream: false });
      const body = JSON.parse(String(upstream.body)) as Record<string, unknown>;
      expect(body, apiVersion).toMatchObject(expected);
      expect(body, apiVersion).not.toHaveProperty(Object.keys(expected)[0] === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens');
    }
  });

  it('copies the members it keeps unchanged from the client text, the deployment replacing the model', async () => {
    const text = '{"model":"azure/gpt-4o","messages":[{"role":"user","content":"h\\u00e9"}],"top_p":1.0}';
    const values = JSON.parse(text) as Record<string, unknown>;
    const context = contextFor({ deployments: { 'gpt-4o': 'chat-prod' } });
    const upstream = await adapter.chat.buildRequest({ ...(values as unknown as ChatCompletionRequest) }, context, { stream: false, source: { bytes: Buffer.from(text), values } });
    expect(new TextDecoder().decode(upstream.body as Uint8Array)).toBe('{"model":"chat-prod","messages":[{"role":"user","content":"h\\u00e9"}],"top_p":1.0}');
  });

  it('drops the annotation-only chunks of an async-filter stream, whatever the byte split', () => {
    const bytes = fixture('chat-stream-async-filter.sse');
    const decode = (size: number): StreamEvent[] => {
      const decoder = adapter.chat.createStreamDecoder(contextFor());
      const events: StreamEvent[] = [];
      for (let start = 0; start < bytes.length; start += size) events.push(...decoder.push(bytes.subarray(start, start + size)));
      return [...events, ...decoder.finish()];
    };
    const whole = decode(bytes.length);
    for (const size of [1, 5, 37]) expect(decode(size)).toEqual(whole);
    const chunks = whole.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(whole).toHaveLength(chunks.length);
    expect(chunks.every((chunk) => chunk.id === 'chatcmpl-7rCNsVeZy0PGnX3H6jK8STps5nZUY')).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Color is a visual perception – café ☕.');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 12 });
  });

  it('keeps chunks it did not change as they were and trims delta-less choices from mixed ones', () => {
    const plain: ChatCompletionChunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] };
    expect(withoutFilterAnnotations(plain)).toBe(plain);
    const mixed = { ...plain, choices: [...plain.choices, { index: 1, finish_reason: null, content_filter_results: {} } as never] };
    expect(withoutFilterAnnotations(mixed)?.choices).toEqual(plain.choices);
  });
});

describe('parseAzureError', () => {
  it('keeps content_filter as the code of a blocked prompt', () => {
    const error = parseAzureError(reply(400, fixture('error-content-filter.json')), contextFor());
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'content_filter', param: 'prompt' });
    expect(error.message).toMatch(/content management policy/);
  });

  it('maps a rate limit with its retry delay and drops the status-number code', () => {
    const error = parseAzureError(reply(429, fixture('error-rate-limit.json'), { 'retry-after-ms': '6000', 'x-ms-error-code': '429' }), contextFor());
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: null, retryAfterMs: 6000 });
  });

  it('takes the code from x-ms-error-code when the body has none', () => {
    const error = parseAzureError(reply(404, '{"error":{"message":"The API deployment for this resource does not exist."}}', { 'x-ms-error-code': 'DeploymentNotFound' }), contextFor());
    expect(error).toMatchObject({ status: 404, code: 'DeploymentNotFound' });
  });
});

describe('secondaryKeyContext', () => {
  const refused = reply(401, '{"error":{"code":"401","message":"Access denied"}}');

  it('offers key2 once after a 401', () => {
    const context = contextFor({ key2: 'secondary-key-0123456789' });
    const fallback = secondaryKeyContext(refused, context);
    expect(fallback?.key.value).toBe('secondary-key-0123456789');
    expect(secondaryKeyContext(refused, fallback!)).toBeUndefined();
    expect(context.key.value).toBe('primary-key-0123456789');
  });

  it('offers nothing for other statuses, without key2, or with Entra credentials', () => {
    expect(secondaryKeyContext(reply(403, '{}'), contextFor({ key2: 'k2' }))).toBeUndefined();
    expect(secondaryKeyContext(refused, contextFor())).toBeUndefined();
    expect(secondaryKeyContext(refused, contextFor({ key2: 'k2', tenantId: 't', clientId: 'c', clientSecret: 's' }))).toBeUndefined();
  });
});
