/**
 * The provider-keys API (seed 002), what it refuses and how it updates: missing credentials, field rules, unknown
 * fields, keyless providers, conflicts (also under concurrency), unknown providers and keys, PUT, ignored
 * read-only fields, pricing structure references and env references, on each store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';
import { expectError, keyRoutes, redacted, reference } from './provider-keys-support.js';

describe.each(storeKinds)('provider keys API, refusals and updates ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  const { post, get, put, stored } = keyRoutes(() => tollgate);

  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store);
    // The key that the unknown-field and not-found cases address by id.
    const created = await post('openai', { id: 'openai-all-fields', name: 'all fields', value: 'sk-0123456789' });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
  });

  it('refuses credentials missing for the provider type', async () => {
    for (const value of [undefined, '', { value: '' }, { value: '', env_var: '', from_env: false }]) {
      expectError(await post('openai', { name: 'no-value', ...(value === undefined ? {} : { value }) }), 400, { param: 'value' });
    }
    expectError(await post('anthropic', { name: 'no-value' }), 400, { param: 'value' });
    expectError(await post('replicate', { name: 'no-value', replicate_key_config: { deployments: {} } }), 400, { param: 'value' });

    // Azure: an api-key, all three Entra client credentials, a client id without a secret (the host's workload or
    // managed identity), or no credential at all (the host's default identity); always an endpoint.
    const endpoint = 'https://contoso.openai.azure.com';
    expect((await post('azure', { name: 'entra', azure_key_config: { endpoint, client_id: 'c', client_secret: 'entra-secret-0123456789', tenant_id: 't' } })).status).toBe(201);
    expect((await post('azure', { name: 'workload-identity', azure_key_config: { endpoint, client_id: 'c', tenant_id: 't' } })).status).toBe(201);
    expect((await post('azure', { name: 'managed-identity', azure_key_config: { endpoint, client_id: 'c' } })).status).toBe(201);
    expect((await post('azure', { name: 'host-identity', azure_key_config: { endpoint } })).status).toBe(201);
    expect((await post('azure', { name: 'tenant-only', azure_key_config: { endpoint, tenant_id: 't' } })).status).toBe(201);
    expectError(await post('azure', { name: 'secret-without-client', azure_key_config: { endpoint, client_secret: 'entra-secret-0123456789', tenant_id: 't' } }), 400, {
      param: 'azure_key_config.client_id',
    });
    expectError(await post('azure', { name: 'secret-without-tenant', azure_key_config: { endpoint, client_id: 'c', client_secret: 'entra-secret-0123456789' } }), 400, {
      param: 'azure_key_config.tenant_id',
    });
    expectError(await post('azure', { name: 'no-endpoint', value: 'azure-key-0123456789' }), 400, { param: 'azure_key_config.endpoint' });

    // Bedrock: an API key, both access keys, or neither.
    expect((await post('bedrock', { name: 'bedrock-api-key', value: 'bedrock-api-key-0123456789' })).status).toBe(201);
    expect((await post('bedrock', { name: 'bedrock-keys', bedrock_key_config: { access_key: 'AKIA0000000000000001', secret_key: 'bedrock-secret-0123456789', region: 'eu-west-1' } })).status).toBe(201);
    expectError(await post('bedrock', { name: 'bedrock-half', bedrock_key_config: { access_key: 'AKIA0000000000000002' } }), 400, { param: 'bedrock_key_config.secret_key' });
    // Neither: the key signs with the host's own AWS credentials (its role).
    expect((await post('bedrock', { name: 'bedrock-host-role', bedrock_key_config: { region: 'eu-west-1' } })).status).toBe(201);

    // Vertex: auth_credentials, a value, or neither (the host's Google identity), and always project and region.
    expect((await post('vertex', { name: 'vertex-host-identity', vertex_key_config: { project_id: 'p', region: 'us-central1' } })).status).toBe(201);
    expectError(await post('vertex', { name: 'vertex-no-project', vertex_key_config: { region: 'us-central1', auth_credentials: '{"type":"service_account"}' } }), 400, { param: 'vertex_key_config.project_id' });
    expectError(await post('vertex', { name: 'vertex-no-region', vertex_key_config: { project_id: 'p', auth_credentials: '{"type":"service_account"}' } }), 400, { param: 'vertex_key_config.region' });

    // Self-hosted servers: no value needed, a URL always.
    expectError(await post('vllm', { name: 'vllm-no-url' }), 400, { param: 'vllm_key_config.url' });
    expectError(await post('vllm', { name: 'vllm-empty-url', vllm_key_config: { url: '' } }), 400, { param: 'vllm_key_config.url' });
    expectError(await post('ollama', { name: 'ollama-no-url', value: 'x-0123456789' }), 400, { param: 'ollama_key_config.url' });
    expectError(await post('sgl', { name: 'sgl-no-url', sgl_key_config: { url: { value: '' } } }), 400, { param: 'sgl_key_config.url' });
  });

  it('enforces weight > 0 and field types', async () => {
    // Above 1,000,000 two weights could add up to Infinity, and the draw would always land on the last key.
    for (const weight of [0, -1, 1_000_001, 1e308]) expectError(await post('groq', { name: 'w', value: 'gsk-0123456789', weight }), 400, { param: 'weight' });
    expectError(await post('groq', { name: 'w', value: 'gsk-0123456789', weight: '2' }), 400, { param: 'weight' });
    expectError(await post('groq', { name: 'w', value: 'gsk-0123456789', models: 'gpt' }), 400, { param: 'models' });
    expectError(await post('groq', { name: 'w', value: 'gsk-0123456789', enabled: 'yes' }), 400, { param: 'enabled' });
    expectError(await post('groq', { name: 'w', value: 12345 }), 400, { param: 'value' });
    expectError(await post('groq', { id: '', name: 'w', value: 'gsk-0123456789' }), 400, { param: 'id' });
    expectError(await post('groq', { name: '', value: 'gsk-0123456789' }), 400, { param: 'name' });
    expectError(await post('groq', { name: 'w', value: 'gsk-0123456789', azure_key_config: { deployments: { a: 1 } } }), 400, { param: 'azure_key_config.deployments.a' });
    const small = await post('groq', { name: 'w', value: 'gsk-0123456789', weight: 0.25 });
    expect(small.status).toBe(201);
    expect(small.body.weight).toBe(0.25);
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/groq/keys' })).body.total).toBe(1);
  });

  it('names unknown fields in error.param', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'u', value: 'sk-0123456789', api_key: 'sk-0123456789' }, 'api_key'],
      [{ name: 'u', value: { value: 'sk-0123456789', secret: true } }, 'value.secret'],
      [{ name: 'u', value: 'sk-0123456789', azure_key_config: { endpoint: 'https://a', region: 'x' } }, 'azure_key_config.region'],
      [{ name: 'u', value: 'sk-0123456789', vertex_key_config: { project: 'p' } }, 'vertex_key_config.project'],
      [{ name: 'u', value: 'sk-0123456789', bedrock_key_config: { batch_s3_config: { buckets: [{ bucket_name: 'b', region: 'x' }] } } }, 'bedrock_key_config.batch_s3_config.buckets.0.region'],
      [{ name: 'u', value: 'sk-0123456789', replicate_key_config: { deployment: {} } }, 'replicate_key_config.deployment'],
      [{ name: 'u', value: 'sk-0123456789', vllm_key_config: { url: 'http://a', model: 'm' } }, 'vllm_key_config.model'],
      [{ name: 'u', value: 'sk-0123456789', ollama_key_config: { url: 'http://a', token: 't' } }, 'ollama_key_config.token'],
    ];
    for (const [body, param] of cases) {
      const response = await post('openai', body);
      expectError(response, 400, { code: 'unknown_field', param });
      expect(response.body.error.message).toContain(param);
    }
    // The same on PUT.
    expectError(await put('openai', 'openai-all-fields', { name: 'all fields', value: 'sk-0123456789', extra: 1 }), 400, { param: 'extra' });
  });

  it('refuses keys on a keyless custom provider, accepts them on a keyed one with its base type rules', async () => {
    const keyless = await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'local-free', network_config: { base_url: 'http://127.0.0.1:9000' }, custom_provider_config: { base_provider_type: 'openai', is_key_less: true } } });
    expect(keyless.status).toBe(201);
    expectError(await post('local-free', { name: 'k', value: 'sk-0123456789' }), 400, { code: 'keyless_provider' });
    expectError(await post('local-free', { name: 'k' }), 400, { code: 'keyless_provider' });
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/local-free/keys' })).body).toEqual({ keys: [], total: 0 });

    await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'my-vllm', custom_provider_config: { base_provider_type: 'vllm' } } });
    expectError(await post('my-vllm', { name: 'k' }), 400, { param: 'vllm_key_config.url' });
    expect((await post('my-vllm', { name: 'k', vllm_key_config: { url: 'http://127.0.0.1:8001' } })).status).toBe(201);
  });

  it('answers 409 for a duplicate id or a duplicate name within one provider', async () => {
    const first = await post('mistral', { id: 'mistral-dup', name: 'dup', value: 'mistral-key-0123456789' });
    expect(first.status).toBe(201);
    expectError(await post('mistral', { id: 'mistral-dup', name: 'other', value: 'mistral-key-0123456789' }), 409, { param: 'id' });
    expectError(await post('cohere', { id: 'mistral-dup', name: 'other', value: 'cohere-key-0123456789' }), 409, { param: 'id' });
    expectError(await post('mistral', { name: 'dup', value: 'mistral-key-9876543210' }), 409, { param: 'name' });
    // The same name under another provider is fine.
    expect((await post('cohere', { name: 'dup', value: 'cohere-key-0123456789' })).status).toBe(201);
    // Renaming onto a sibling's name is a conflict too.
    const second = await post('mistral', { name: 'second', value: 'mistral-key-second-0001' });
    expectError(await put('mistral', second.body.id, { name: 'dup', value: 'mistral-key-second-0001' }), 409, { param: 'name' });
    expect((await get('mistral', second.body.id)).body.name).toBe('second');
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/mistral/keys' })).body.total).toBe(2);
  });

  it('lets exactly one of two concurrent creates with the same name or id win; the other gets 409', async () => {
    const sameName = await Promise.all([
      post('xai', { name: 'raced', value: 'xai-key-0123456789-a' }),
      post('xai', { name: 'raced', value: 'xai-key-0123456789-b' }),
    ]);
    expect(sameName.map((response) => response.status).sort()).toEqual([201, 409]);
    expectError(sameName.find((response) => response.status === 409)!, 409);
    const sameId = await Promise.all([
      post('xai', { id: 'xai-raced-id', name: 'raced-a', value: 'xai-key-0123456789-c' }),
      post('perplexity', { id: 'xai-raced-id', name: 'raced-b', value: 'pplx-key-0123456789' }),
    ]);
    expect(sameId.map((response) => response.status).sort()).toEqual([201, 409]);
    const winner = sameId.find((response) => response.status === 201)!.body;
    expect(stored('xai-raced-id')?.name).toBe(winner.name);
    const xai = (await tollgate.request({ method: 'GET', url: '/api/providers/xai/keys' })).body;
    expect(xai.keys.filter((key: { name: string }) => key.name === 'raced')).toHaveLength(1);
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/perplexity/keys' })).body.total + xai.total).toBe(2);
  });

  it('answers 404 for an unknown provider or key', async () => {
    expectError(await tollgate.request({ method: 'GET', url: '/api/providers/nope/keys' }), 404, { code: 'provider_not_found' });
    expectError(await post('nope', { name: 'k', value: 'sk-0123456789' }), 404, { code: 'provider_not_found' });
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const body = method === 'PUT' ? { name: 'k', value: 'sk-0123456789' } : undefined;
      expectError(await tollgate.request({ method, url: '/api/providers/nope/keys/openai-all-fields', body }), 404, { code: 'provider_not_found' });
      expectError(await tollgate.request({ method, url: '/api/providers/openai/keys/missing-key', body }), 404, { code: 'key_not_found' });
      // A key exists only under its own provider.
      expectError(await tollgate.request({ method, url: '/api/providers/anthropic/keys/openai-all-fields', body }), 404, { code: 'key_not_found' });
    }
    expect((await get('openai', 'openai-all-fields')).status).toBe(200);
  });

  it('PUT replaces the key with what it sends', async () => {
    const created = await post('deepseek', {
      id: 'deepseek-replace',
      name: 'replace-me',
      value: 'deepseek-key-0123456789',
      models: ['deepseek-chat'],
      blacklisted_models: ['deepseek-reasoner'],
      weight: 3,
      enabled: false,
      use_for_batch_api: true,
      description: 'before',
    });
    expect(created.status).toBe(201);
    tollgate.clock.now += 60_000;
    const replaced = await put('deepseek', 'deepseek-replace', { name: 'replaced', value: 'deepseek-new-key-9876543210' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      ...created.body,
      name: 'replaced',
      value: redacted('deepseek-new-key-9876543210'),
      models: [],
      blacklisted_models: [],
      weight: 1,
      enabled: true,
      use_for_batch_api: false,
      description: '',
      status: 'active',
      updated_at: '2026-11-23T12:01:00.000Z',
    });
    expect(replaced.body.created_at).toBe(created.body.created_at);
    expect((await get('deepseek', 'deepseek-replace')).body).toEqual(replaced.body);
    expect(stored('deepseek-replace')?.value).toEqual({ kind: 'value', value: 'deepseek-new-key-9876543210' });
    // A PUT without value is a key without credentials.
    expectError(await put('deepseek', 'deepseek-replace', { name: 'replaced' }), 400, { param: 'value' });
    // The body's id must be the path's.
    expectError(await put('deepseek', 'deepseek-replace', { id: 'other-id', name: 'replaced', value: 'deepseek-new-key-9876543210' }), 400, { param: 'id' });
    expect((await put('deepseek', 'deepseek-replace', { id: 'deepseek-replace', name: 'replaced', value: 'deepseek-new-key-9876543210' })).status).toBe(200);
  });

  it('ignores config_hash, status, created_at and updated_at sent by the client', async () => {
    const forged = { config_hash: 'forged-hash', status: 'forged-status', created_at: '1999-01-01T00:00:00.000Z', updated_at: '1999-01-01T00:00:00.000Z' };
    const created = await post('together', { name: 'managed', value: 'together-key-0123456789', ...forged });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ config_hash: '', status: 'active', created_at: new Date(tollgate.clock.now).toISOString(), updated_at: new Date(tollgate.clock.now).toISOString() });
    tollgate.clock.now += 1000;
    const replaced = await put('together', created.body.id, { name: 'managed', value: 'together-key-0123456789', ...forged, status: null, config_hash: null });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ config_hash: '', status: 'active', created_at: created.body.created_at, updated_at: new Date(tollgate.clock.now).toISOString() });
  });

  it('refuses a customPricingStructureId naming no pricing structure', async () => {
    expectError(await post('openrouter', { name: 'priced', value: 'or-key-0123456789', customPricingStructureId: 'ps_missing' }), 400, {
      code: 'pricing_structure_not_found',
      param: 'customPricingStructureId',
    });
    const unpriced = await post('openrouter', { name: 'priced', value: 'or-key-0123456789', customPricingStructureId: null });
    expect(unpriced.status).toBe(201);
    expectError(await put('openrouter', unpriced.body.id, { name: 'priced', value: 'or-key-0123456789', customPricingStructureId: 'ps_missing' }), 400, {
      code: 'pricing_structure_not_found',
    });
  });

  it('stores env references in string and object form and shows an unset variable in status', async () => {
    const stringForm = await post('fireworks', { name: 'env-string', value: 'env.FIREWORKS_KEY' });
    expect(stringForm.status).toBe(201);
    expect(stringForm.body.value).toEqual(reference('FIREWORKS_KEY'));
    expect(stringForm.body.status).toBe('error: environment variable FIREWORKS_KEY is not set');
    expect(stored(stringForm.body.id)?.value).toEqual({ kind: 'env', name: 'FIREWORKS_KEY' });

    const objectForm = await post('fireworks', { name: 'env-object', value: { from_env: true, env_var: 'env.FIREWORKS_KEY' } });
    expect(objectForm.status).toBe(201);
    expect(objectForm.body.value).toEqual(reference('FIREWORKS_KEY'));
    // The object form's value is what is shown, so a GET body is itself a valid object form.
    expect(objectForm.body.value).toEqual({ value: '', env_var: 'env.FIREWORKS_KEY', from_env: true });

    const azure = await post('azure', {
      name: 'azure-env',
      value: 'env.AZURE_KEY',
      azure_key_config: { endpoint: 'env.AZURE_ENDPOINT', api_version: { from_env: true, env_var: 'env.AZURE_API_VERSION' } },
    });
    expect(azure.status).toBe(201);
    expect(azure.body.azure_key_config).toMatchObject({ endpoint: reference('AZURE_ENDPOINT'), api_version: reference('AZURE_API_VERSION') });
    expect(azure.body.status).toBe('error: environment variables AZURE_KEY, AZURE_ENDPOINT, AZURE_API_VERSION are not set');

    tollgate.environment.FIREWORKS_KEY = 'fw-secret-from-environment';
    expect((await get('fireworks', stringForm.body.id)).body.status).toBe('active');
    expect((await get('fireworks', objectForm.body.id)).body.status).toBe('active');
    const list = await tollgate.request({ method: 'GET', url: '/api/providers/fireworks/keys' });
    expect(list.text).not.toContain('fw-secret-from-environment');
    tollgate.environment.AZURE_KEY = 'a';
    tollgate.environment.AZURE_ENDPOINT = 'https://b';
    expect((await get('azure', azure.body.id)).body.status).toBe('error: environment variable AZURE_API_VERSION is not set');
    delete tollgate.environment.FIREWORKS_KEY;
    expect((await get('fireworks', stringForm.body.id)).body.status).toBe('error: environment variable FIREWORKS_KEY is not set');

    // A GET body sent back keeps the reference.
    const fetched = (await get('fireworks', objectForm.body.id)).body;
    const replaced = await put('fireworks', objectForm.body.id, { ...fetched, enabled: false });
    expect(replaced.status).toBe(200);
    expect(replaced.body.value).toEqual(reference('FIREWORKS_KEY'));
    expect(stored(objectForm.body.id)?.value).toEqual({ kind: 'env', name: 'FIREWORKS_KEY' });
    tollgate.environment.FIREWORKS_KEY = 'x';
    expect((await get('fireworks', objectForm.body.id)).body.status).toBe('disabled');

    // Malformed references are refused, naming the field.
    expectError(await post('fireworks', { name: 'bad-env', value: { from_env: true, env_var: 'env.1-not-a-name' } }), 400, { param: 'value' });
    expectError(await post('fireworks', { name: 'bad-env', value: { from_env: true } }), 400, { param: 'value' });
  });

});
