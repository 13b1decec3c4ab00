import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../spec/errors.js';
import type { ProviderContext, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { entraClientOf, EntraTokenCache, type EntraClient } from './entra-token-cache.js';

const client: EntraClient = { tenantId: 'tenant', clientId: 'client', clientSecret: 'secret-value', scope: 'https://cognitiveservices.azure.com/.default' };

/** A token endpoint whose replies the test releases by hand, so overlapping callers are certain. */
function deferredEndpoint() {
  const calls: Array<{ request: UpstreamRequest; answer: (response: UpstreamResponse) => void }> = [];
  // Like the real client, a request given a signal is cancelled when that signal aborts (and stops listening once
  // answered: the shared fetches all listen on the one signal that never aborts).
  const send = (request: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> =>
    new Promise((resolve, reject) => {
      const cancel = () => reject(signal?.reason);
      signal?.addEventListener('abort', cancel, { once: true });
      const answer = (response: UpstreamResponse) => {
        signal?.removeEventListener('abort', cancel);
        resolve(response);
      };
      calls.push({ request, answer });
    });
  const tokenReply = (token: string, expiresIn: number | string = 3600): UpstreamResponse => ({
    status: 200,
    headers: {},
    body: new TextEncoder().encode(JSON.stringify({ token_type: 'Bearer', expires_in: expiresIn, access_token: token })),
  });
  return { calls, send, tokenReply };
}

/** A context whose send, as the core's does, cancels with the caller's signal unless it is given another. */
function contextWith(send: ProviderContext['send'], signal?: AbortSignal, now = () => 0): ProviderContext {
  const bound: ProviderContext['send'] = (request, callSignal) => send(request, callSignal ?? signal);
  return { send: bound, now, signal, requestId: 'r', model: 'm' } as unknown as ProviderContext;
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

  it('lets an aborted waiter leave while the shared request, which its signal does not cancel, still serves the others', async () => {
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
  const context = (azure: Record<string, unknown>, value = '') => ({ key: { value, azure: { endpoint: '', deployments: {}, scopes: [], ...azure } } }) as unknown as ProviderContext;

  it('takes complete client credentials over an api-key, and joins configured scopes', () => {
    expect(entraClientOf(context({ tenantId: 't', clientId: 'c', clientSecret: 's', scopes: ['a/.default', 'b'] }, 'api-key'))).toEqual({
      tenantId: 't',
      clientId: 'c',
      clientSecret: 's',
      scope: 'a/.default b',
    });
  });

  it("takes a client id without a secret, on a key without an api-key, as the host's identity", () => {
    expect(entraClientOf(context({ tenantId: 't', clientId: 'c' }))).toEqual({ tenantId: 't', clientId: 'c', scope: 'https://cognitiveservices.azure.com/.default' });
    expect(entraClientOf(context({ clientId: 'c' }), 'https://ai.azure.com/.default')).toEqual({ clientId: 'c', scope: 'https://ai.azure.com/.default' });
  });

  it("takes a key with neither a secret nor an api-key, and no client id, as the host's default identity", () => {
    expect(entraClientOf(context({}))).toEqual({ scope: 'https://cognitiveservices.azure.com/.default' });
    expect(entraClientOf(context({ tenantId: 't', scopes: ['api://custom/.default'] }))).toEqual({ tenantId: 't', scope: 'api://custom/.default' });
  });

  it('leaves the api-key to serve when the Entra fields are incomplete', () => {
    expect(entraClientOf(context({ tenantId: 't', clientId: 'c' }, 'api-key'))).toBeUndefined();
    expect(entraClientOf(context({}, 'api-key'))).toBeUndefined();
    expect(entraClientOf(context({ tenantId: 't', clientSecret: 's' }, 'api-key'))).toBeUndefined();
    // A secret without its client id is no identity at all (the key rules refuse such a key without an api-key).
    expect(entraClientOf(context({ clientId: 'c', clientSecret: 's' }))).toBeUndefined();
    expect(entraClientOf(context({ tenantId: 't', clientSecret: 's' }))).toBeUndefined();
  });
});

describe('EntraTokenCache for identities without a secret', () => {
  /** Lets the cache's pending promise jobs run (an identity's request is built asynchronously before it is sent). */
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  const identityClient: EntraClient = { clientId: 'managed-client', scope: 'https://cognitiveservices.azure.com/.default' };

  it('takes the expiry alone from a managed identity endpoint that gives no lifetime', async () => {
    const endpoint = deferredEndpoint();
    let now = 1_000_000_000;
    const cache = new EntraTokenCache(undefined, { identityEndpoint: { url: 'http://identity.local/msi/token', header: 'header-secret' } });
    const first = cache.token(identityClient, contextWith(endpoint.send, undefined, () => now));
    await settled();
    const reply = { access_token: 'managed-1', expires_on: String(now / 1000 + 3600), token_type: 'Bearer' };
    endpoint.calls[0]!.answer({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(reply)) });
    expect(await first).toBe('managed-1');
    // Cached until five minutes before that expiry.
    now += 3600_000 - 5 * 60_000 - 1;
    expect(await cache.token(identityClient, contextWith(endpoint.send, undefined, () => now))).toBe('managed-1');
    expect(endpoint.calls).toHaveLength(1);
    now += 1;
    void cache.token(identityClient, contextWith(endpoint.send, undefined, () => now));
    await settled();
    expect(endpoint.calls).toHaveLength(2);
  });

  it('says, when the identity endpoint cannot be reached, that such a key needs an Azure host, without the header secret', async () => {
    const refused = () => Promise.reject(new Error('connect ECONNREFUSED 169.254.169.254:80 (header-secret)'));
    const cache = new EntraTokenCache(undefined, { identityEndpoint: { url: 'http://identity.local/msi/token', header: 'header-secret' } });
    const failure = await cache.token(identityClient, contextWith(refused)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 503, code: 'provider_credentials_missing' });
    expect((failure as Error).message).toContain('could not be reached');
    expect((failure as Error).message).toContain('identity of the Azure host');
    for (const variable of ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'IDENTITY_ENDPOINT', 'AZURE_POD_IDENTITY_AUTHORITY_HOST']) {
      expect((failure as Error).message).toContain(variable);
    }
    expect((failure as Error).message).not.toContain('header-secret');
  });

  it('never gives one identity the token of another: keyed by the identity each key resolves to', async () => {
    const endpoint = deferredEndpoint();
    const cache = new EntraTokenCache(undefined, { imdsHost: 'http://imds.local' });
    const systemAssigned: EntraClient = { scope: 'https://cognitiveservices.azure.com/.default' };
    const first = cache.token(systemAssigned, contextWith(endpoint.send));
    const second = cache.token(identityClient, contextWith(endpoint.send));
    // A key's tenant does not make another managed identity: the same system-assigned identity, one request.
    const third = cache.token({ ...systemAssigned, tenantId: 'some-tenant' }, contextWith(endpoint.send));
    await settled();
    expect(endpoint.calls.map((call) => new URL(call.request.url).searchParams.get('client_id'))).toEqual([null, 'managed-client']);
    endpoint.calls[0]!.answer(endpoint.tokenReply('system-token'));
    endpoint.calls[1]!.answer(endpoint.tokenReply('managed-token'));
    expect([await first, await second, await third]).toEqual(['system-token', 'managed-token', 'system-token']);
  });

  it("shares a token between a key naming a client id and one taking the same id from the environment", async () => {
    const endpoint = deferredEndpoint();
    const cache = new EntraTokenCache(undefined, { imdsHost: 'http://imds.local', clientId: 'managed-client' });
    const fromEnvironment = cache.token({ scope: 'https://cognitiveservices.azure.com/.default' }, contextWith(endpoint.send));
    await settled();
    expect(endpoint.calls).toHaveLength(1);
    expect(new URL(endpoint.calls[0]!.request.url).searchParams.get('client_id')).toBe('managed-client');
    endpoint.calls[0]!.answer(endpoint.tokenReply('managed-token'));
    expect(await fromEnvironment).toBe('managed-token');
    expect(await cache.token(identityClient, contextWith(endpoint.send))).toBe('managed-token');
    expect(endpoint.calls).toHaveLength(1);
  });

  it("reports a managed identity endpoint's refusal with its description, and a cancelled request as cancelled", async () => {
    const endpoint = deferredEndpoint();
    const cache = new EntraTokenCache(undefined, { imdsHost: 'http://imds.local' });
    const pending = cache.token(identityClient, contextWith(endpoint.send)).catch((error: unknown) => error);
    await settled();
    const refusal = { error: 'invalid_request', error_description: 'Identity not found' };
    endpoint.calls[0]!.answer({ status: 400, headers: {}, body: new TextEncoder().encode(JSON.stringify(refusal)) });
    const failure = (await pending) as Error;
    expect(failure).toMatchObject({ status: 401, code: 'upstream_token_error' });
    expect(failure.message).toBe("Azure's instance metadata service (managed identity) did not issue a token (invalid_request: Identity not found).");

    const cancelled = new GatewayError({ status: 499, type: 'invalid_request_error', code: 'client_closed_request', message: 'The request was cancelled' });
    const aborting = new EntraTokenCache(undefined, { imdsHost: 'http://imds.local' });
    expect(await aborting.token(identityClient, contextWith(() => Promise.reject(cancelled))).catch((error: unknown) => error)).toBe(cancelled);
  });
});
