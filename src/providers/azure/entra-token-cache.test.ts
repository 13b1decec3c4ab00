import { describe, expect, it } from 'vitest';
import type { ProviderContext, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { entraClientOf, EntraTokenCache, type EntraClient } from './entra-token-cache.js';

const client: EntraClient = { tenantId: 'tenant', clientId: 'client', clientSecret: 'secret-value', scope: 'https://cognitiveservices.azure.com/.default' };

/** A token endpoint whose replies the test releases by hand, so overlapping callers are certain. */
function deferredEndpoint() {
  const calls: Array<{ request: UpstreamRequest; answer: (response: UpstreamResponse) => void }> = [];
  const send = (request: UpstreamRequest): Promise<UpstreamResponse> => new Promise((resolve) => calls.push({ request, answer: resolve }));
  const tokenReply = (token: string, expiresIn: number | string = 3600): UpstreamResponse => ({
    status: 200,
    headers: {},
    body: new TextEncoder().encode(JSON.stringify({ token_type: 'Bearer', expires_in: expiresIn, access_token: token })),
  });
  return { calls, send, tokenReply };
}

function contextWith(send: ProviderContext['send'], signal?: AbortSignal, now = () => 0): ProviderContext {
  return { send, now, signal, requestId: 'r', model: 'm' } as unknown as ProviderContext;
}

describe('EntraTokenCache', () => {
  it('posts the client-credentials form to the tenant token endpoint of the authority host', async () => {
    const endpoint = deferredEndpoint();
    const cache = new EntraTokenCache('https://login.example.test/');
    const pending = cache.token(client, contextWith(endpoint.send));
    const call = endpoint.calls[0]!;
    expect(call.request.url).toBe('https://login.example.test/tenant/oauth2/v2.0/token');
    expect(call.request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(String(call.request.body)))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client',
      client_secret: 'secret-value',
      scope: 'https://cognitiveservices.azure.com/.default',
    });
    // Older endpoints send expires_in as a string.
    call.answer(endpoint.tokenReply('token-1', '3599'));
    expect(await pending).toBe('token-1');
  });

  it('lets an aborted waiter leave while the shared request still serves the others', async () => {
    const endpoint = deferredEndpoint();
    const cache = new EntraTokenCache();
    const controller = new AbortController();
    const leaving = cache.token(client, contextWith(endpoint.send, controller.signal)).catch((error: unknown) => error);
    const staying = cache.token(client, contextWith(endpoint.send));
    expect(endpoint.calls).toHaveLength(1);
    controller.abort(new Error('client went away'));
    expect(await leaving).toEqual(new Error('client went away'));
    endpoint.calls[0]!.answer(endpoint.tokenReply('token-1'));
    expect(await staying).toBe('token-1');
  });

  it('keeps separate tokens per scope', async () => {
    const endpoint = deferredEndpoint();
    const cache = new EntraTokenCache();
    const first = cache.token(client, contextWith(endpoint.send));
    const second = cache.token({ ...client, scope: 'api://other/.default' }, contextWith(endpoint.send));
    expect(endpoint.calls).toHaveLength(2);
    endpoint.calls[0]!.answer(endpoint.tokenReply('token-a'));
    endpoint.calls[1]!.answer(endpoint.tokenReply('token-b'));
    expect([await first, await second]).toEqual(['token-a', 'token-b']);
  });

  it('refuses a token reply without an access token', async () => {
    const endpoint = deferredEndpoint();
    const pending = new EntraTokenCache().token(client, contextWith(endpoint.send)).catch((error: unknown) => error);
    endpoint.calls[0]!.answer({ status: 200, headers: {}, body: new TextEncoder().encode('{"token_type":"Bearer"}') });
    expect(await pending).toMatchObject({ status: 502, code: 'upstream_token_error' });
  });
});

describe('entraClientOf', () => {
  it('needs tenant, client and secret, and joins configured scopes', () => {
    const context = (azure: Record<string, unknown>) => ({ key: { azure: { endpoint: '', deployments: {}, scopes: [], ...azure } } }) as unknown as ProviderContext;
    expect(entraClientOf(context({ tenantId: 't', clientId: 'c' }))).toBeUndefined();
    expect(entraClientOf(context({ tenantId: 't', clientId: 'c', clientSecret: 's', scopes: ['a/.default', 'b'] }))?.scope).toBe('a/.default b');
  });
});
