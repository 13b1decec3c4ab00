import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInProviderNames } from '../../src/spec/schemas/provider.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';

describe.each(storeKinds)('providers API ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;

  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store);
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
  });

  it('refuses a missing or wrong admin key with 401 in the error shape', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-key-wrong-key' }, { authorization: 'Basic abc' }];
    for (const headers of attempts) {
      const response = await tollgate.request({ method: 'GET', url: '/api/providers', admin: false, headers });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({
        type: 'authentication_error',
        is_bifrost_error: true,
        status_code: 401,
        error: { type: 'authentication_error', param: null },
        extra_fields: { provider: null, model_requested: null, request_type: null },
      });
      expect(response.body.event_id).toBe(response.body.error.event_id);
      expect(response.text).not.toContain('wrong-key-wrong-key');
    }
  });

  it('lists every built-in provider with default settings', async () => {
    const response = await tollgate.request({ method: 'GET', url: '/api/providers' });
    expect(response.status).toBe(200);
    expect(response.body.total).toBe(builtInProviderNames.length);
    expect(response.body.providers.map((provider: { name: string }) => provider.name)).toEqual([...builtInProviderNames]);
    expect(response.body.providers[0]).toEqual({
      name: 'openai',
      built_in: true,
      network_config: {
        base_url: '',
        extra_headers: {},
        default_request_timeout_in_seconds: 60,
        max_retries: 2,
        retry_backoff_initial: 500,
        retry_backoff_max: 5000,
      },
      concurrency_and_buffer_size: { concurrency: 1000, buffer_size: 5000 },
      custom_provider_config: null,
      key_count: 0,
      created_at: null,
      updated_at: null,
    });
  });

  it('changes a built-in provider settings with PUT, and accepts a GET body sent back', async () => {
    const put = await tollgate.request({
      method: 'PUT',
      url: '/api/providers/groq',
      body: {
        network_config: { base_url: 'http://127.0.0.1:9999/prefix', extra_headers: { 'x-team': 'search' }, max_retries: 4, retry_backoff_initial: 100, retry_backoff_max: 1000 },
        concurrency_and_buffer_size: { concurrency: 8, buffer_size: 16 },
      },
    });
    expect(put.status).toBe(200);
    expect(put.body.network_config).toMatchObject({ base_url: 'http://127.0.0.1:9999/prefix', extra_headers: { 'x-team': 'search' }, max_retries: 4, default_request_timeout_in_seconds: 60 });
    expect(put.body.concurrency_and_buffer_size).toEqual({ concurrency: 8, buffer_size: 16 });
    const get = await tollgate.request({ method: 'GET', url: '/api/providers/groq' });
    expect(get.body).toEqual(put.body);
    const again = await tollgate.request({ method: 'PUT', url: '/api/providers/groq', body: get.body });
    expect(again.status).toBe(200);
    expect(again.body.network_config).toEqual(get.body.network_config);
  });

  it('refuses keys on PUT with a message pointing at the keys routes', async () => {
    const response = await tollgate.request({ method: 'PUT', url: '/api/providers/openai', body: { keys: [{ value: 'sk-x' }] } });
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe('keys');
    expect(response.body.error.message).toContain('/api/providers/openai/keys');
  });

  it('names unknown and invalid fields', async () => {
    const unknown = await tollgate.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { base_url: 'https://x.example', retries: 3 } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('network_config.retries');
    const invalid = await tollgate.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { max_retries: -1 } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.param).toBe('network_config.max_retries');
    const url = await tollgate.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { base_url: 'ftp://nope' } } });
    expect(url.status).toBe(400);
    const backoff = await tollgate.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { retry_backoff_initial: 5000, retry_backoff_max: 10 } } });
    expect(backoff.status).toBe(400);
    expect(backoff.body.error.param).toBe('network_config.retry_backoff_initial');
  });

  it('creates a custom provider, refuses duplicates and bad base types', async () => {
    const created = await tollgate.request({
      method: 'POST',
      url: '/api/providers',
      body: { provider: 'my-llm', network_config: { base_url: 'http://127.0.0.1:8000' }, custom_provider_config: { base_provider_type: 'openai' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'my-llm', built_in: false, custom_provider_config: { base_provider_type: 'openai', is_key_less: false } });
    expect(typeof created.body.created_at).toBe('string');

    expect((await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'my-llm', custom_provider_config: { base_provider_type: 'openai' } } })).status).toBe(409);
    expect((await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'openai', custom_provider_config: { base_provider_type: 'openai' } } })).status).toBe(409);
    const missing = await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'other' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe('custom_provider_config.base_provider_type');
    const badType = await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'other', custom_provider_config: { base_provider_type: 'nonsense' } } });
    expect(badType.status).toBe(400);
    const badName = await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'Bad Name', custom_provider_config: { base_provider_type: 'openai' } } });
    expect(badName.status).toBe(400);
    expect(badName.body.error.param).toBe('provider');

    const list = await tollgate.request({ method: 'GET', url: '/api/providers' });
    expect(list.body.providers.at(-1).name).toBe('my-llm');
    expect(list.body.total).toBe(builtInProviderNames.length + 1);
  });

  it('answers 404 for an unknown provider', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await tollgate.request({ method, url: '/api/providers/nope', ...(method === 'PUT' ? { body: {} } : {}) });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('provider_not_found');
    }
  });

  it('deletes a custom provider with its keys, and resets a built-in one', async () => {
    await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'temp', custom_provider_config: { base_provider_type: 'anthropic' } } });
    const key = await tollgate.request({ method: 'POST', url: '/api/providers/temp/keys', body: { name: 'k', value: 'sk-ant-temporary-0001' } });
    expect(key.status).toBe(201);
    const deleted = await tollgate.request({ method: 'DELETE', url: '/api/providers/temp' });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ name: 'temp', key_count: 1 });
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/temp' })).status).toBe(404);
    expect((await tollgate.request({ method: 'GET', url: '/api/keys' })).body.keys.some((entry: { id: string }) => entry.id === key.body.id)).toBe(false);

    await tollgate.request({ method: 'PUT', url: '/api/providers/mistral', body: { network_config: { max_retries: 7 } } });
    const reset = await tollgate.request({ method: 'DELETE', url: '/api/providers/mistral' });
    expect(reset.body.network_config.max_retries).toBe(7);
    const after = await tollgate.request({ method: 'GET', url: '/api/providers/mistral' });
    expect(after.body.network_config.max_retries).toBe(2);
    expect(after.body.created_at).toBeNull();
  });

  it('keeps provider settings across a restart', async () => {
    await tollgate.request({ method: 'PUT', url: '/api/providers/xai', body: { network_config: { default_request_timeout_in_seconds: 12 } } });
    await tollgate.close();
    tollgate = await startTestGateway(store);
    const response = await tollgate.request({ method: 'GET', url: '/api/providers/xai' });
    expect(response.body.network_config.default_request_timeout_in_seconds).toBe(12);
  });
});
