/** Claude deployments on an Azure key: which attempts go there, the request built for them, their errors. */
import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, ResolvedKey, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { claudeOnAzureRequest, isClaudeOnAzure, parseClaudeOnAzureError } from './claude-on-azure.js';
import { EntraTokenCache, FOUNDRY_SCOPE } from './entra-token-cache.js';
import { createAzureAdapter } from './index.js';

const RESOURCE = 'https://contoso.services.ai.azure.com';
const KEY_VALUE = 'foundry-key-0123456789';

/** A context for `model` on a key of the resource; `sent` collects what the adapter sends itself (token requests). */
function contextFor(model: string, azure: Partial<NonNullable<ResolvedKey['azure']>> = {}, sent: UpstreamRequest[] = []): ProviderContext {
  return {
    provider: { name: 'azure', adapterType: 'azure', network: { extraHeaders: { 'X-Team': 'blue', 'X-Api-Key': 'not-ours' }, timeoutMs: 10_000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 } },
    key: { id: 'key-1', name: 'foundry', provider: 'azure', value: KEY_VALUE, azure: { endpoint: RESOURCE, deployments: { 'claude-sonnet-4-5': 'sonnet-prod', writer: 'claude-opus-team' }, scopes: [], ...azure } },
    model,
    requestId: 'req-7',
    now: () => 1_000_000,
    async send(request): Promise<UpstreamResponse> {
      sent.push(request);
      const body = new TextEncoder().encode(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'entra-access-token' }));
      return { status: 200, headers: { 'content-type': 'application/json' }, body };
    },
  };
}

const hello: ChatCompletionRequest = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 50 };

describe('isClaudeOnAzure', () => {
  it('takes an attempt whose model or deployment is a Claude one, and no other', () => {
    expect(isClaudeOnAzure(contextFor('claude-sonnet-4-5'))).toBe(true);
    // A deployment named by the operator, its model named by the client.
    expect(isClaudeOnAzure(contextFor('writer'))).toBe(true);
    expect(isClaudeOnAzure(contextFor('Claude-Haiku-4-5'))).toBe(true);
    expect(isClaudeOnAzure(contextFor('gpt-4o'))).toBe(false);
  });
});

describe('claudeOnAzureRequest', () => {
  it("addresses the resource's /anthropic/v1/messages with the deployment, the key as x-api-key, no configured header in its place", async () => {
    const upstream = await claudeOnAzureRequest(hello, contextFor('claude-sonnet-4-5'), new EntraTokenCache(), { stream: true });
    expect(upstream.url).toBe(`${RESOURCE}/anthropic/v1/messages`);
    expect(upstream.headers).toMatchObject({ 'x-api-key': KEY_VALUE, 'anthropic-version': '2023-06-01', accept: 'text/event-stream', 'x-team': 'blue' });
    expect(upstream.headers).not.toHaveProperty('api-key');
    expect(JSON.parse(upstream.body as string)).toMatchObject({ model: 'sonnet-prod', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Hello' }] });
  });

  it('drops /anthropic or /anthropic/v1 at the end of the endpoint rather than doubling it', async () => {
    for (const endpoint of [`${RESOURCE}/anthropic`, `${RESOURCE}/anthropic/`, `${RESOURCE}/anthropic/v1`]) {
      const upstream = await claudeOnAzureRequest(hello, contextFor('claude-sonnet-4-5', { endpoint }), new EntraTokenCache(), { stream: false });
      expect(upstream.url).toBe(`${RESOURCE}/anthropic/v1/messages`);
    }
  });

  it('sends a native Messages body as written under the deployment, with its betas', async () => {
    const native = {
      format: 'anthropic-messages' as const,
      body: { model: 'azure/claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'as is' }], metadata: { user_id: 'u1' } },
      betas: ['context-1m-2025-08-07'],
    };
    const upstream = await claudeOnAzureRequest(hello, contextFor('claude-sonnet-4-5'), new EntraTokenCache(), { stream: false, native });
    expect(JSON.parse(upstream.body as string)).toEqual({ model: 'sonnet-prod', max_tokens: 10, messages: [{ role: 'user', content: 'as is' }], metadata: { user_id: 'u1' } });
    expect(upstream.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
  });

  it("fetches an Entra token for Foundry's scope, or for the key's own scopes", async () => {
    const entra = { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'secret-1' };
    const sent: UpstreamRequest[] = [];
    const upstream = await claudeOnAzureRequest(hello, contextFor('claude-sonnet-4-5', entra, sent), new EntraTokenCache('https://login.example'), { stream: false });
    expect(upstream.headers.authorization).toBe('Bearer entra-access-token');
    expect(upstream.headers).not.toHaveProperty('x-api-key');
    expect(sent[0]!.url).toBe('https://login.example/tenant-1/oauth2/v2.0/token');
    expect(new URLSearchParams(sent[0]!.body as string).get('scope')).toBe(FOUNDRY_SCOPE);

    const scoped: UpstreamRequest[] = [];
    await claudeOnAzureRequest(hello, contextFor('claude-sonnet-4-5', { ...entra, scopes: ['api://custom/.default'] }, scoped), new EntraTokenCache(), { stream: false });
    expect(new URLSearchParams(scoped[0]!.body as string).get('scope')).toBe('api://custom/.default');
  });

  it("takes a missing output limit from the Claude model's id: the client's name for it, else the deployment's", async () => {
    const limitOf = async (context: ProviderContext) => {
      const upstream = await claudeOnAzureRequest({ ...hello, max_tokens: undefined }, context, new EntraTokenCache(), { stream: false });
      return (JSON.parse(upstream.body as string) as { max_tokens: number }).max_tokens;
    };
    // Sonnet 4.5 writes up to 64,000 tokens; an id Tollgate cannot read gets 4,096, which every Claude model accepts.
    expect(await limitOf(contextFor('claude-sonnet-4-5'))).toBe(64_000);
    expect(await limitOf(contextFor('writer', { deployments: { writer: 'claude-sonnet-4-5' } }))).toBe(64_000);
    expect(await limitOf(contextFor('writer'))).toBe(4_096);
  });
});

describe('the Azure adapter for Claude deployments', () => {
  const adapter = createAzureAdapter({});

  it('takes Messages requests as written for Claude deployments, and Responses requests for the others on the v1 API', () => {
    expect(adapter.chat.nativeFormats).toEqual(['openai-responses', 'anthropic-messages']);
    expect(adapter.chat.takesNative!(contextFor('claude-sonnet-4-5'), 'anthropic-messages')).toBe(true);
    expect(adapter.chat.takesNative!(contextFor('claude-sonnet-4-5', { apiVersion: 'v1' }), 'openai-responses')).toBe(false);
    expect(adapter.chat.takesNative!(contextFor('gpt-4o', { apiVersion: 'v1' }), 'openai-responses')).toBe(true);
    expect(adapter.chat.takesNative!(contextFor('gpt-4o', { apiVersion: 'v1' }), 'anthropic-messages')).toBe(false);
  });

  it("reads Claude's errors in Anthropic's shape and the resource's in Azure's, naming no key", () => {
    const reply = (status: number, body: unknown): UpstreamResponse => ({ status, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body)) });
    const claude = parseClaudeOnAzureError(reply(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), contextFor('claude-sonnet-4-5'));
    expect(claude).toMatchObject({ status: 503, message: 'Overloaded' });
    const frontDoor = parseClaudeOnAzureError(
      reply(401, { error: { code: '401', message: `Access denied due to invalid subscription key ${KEY_VALUE}.` } }),
      contextFor('claude-sonnet-4-5'),
    );
    expect(frontDoor.status).toBe(401);
    expect(frontDoor.message).toContain('Access denied');
    expect(frontDoor.message).not.toContain(KEY_VALUE);
    expect(adapter.parseError(reply(401, { error: { code: '401', message: 'Access denied.' } }), contextFor('claude-sonnet-4-5'))).toMatchObject({ status: 401 });
  });
});
