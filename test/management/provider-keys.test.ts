/**
 * The provider-keys API (seed 002): creation with defaults, round trips of every field and sub-config, listings,
 * deletion and persistence across a restart, on each store. Refusals and updates are in provider-keys-updates.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';
import { empty, expectError, keyRoutes, literal, noConfigs, redacted, uuidPattern } from './provider-keys-support.js';

describe.each(storeKinds)('provider keys API ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  const { post, get, remove, stored } = keyRoutes(() => tollgate);

  /** Creates a key, checks the answer equals `expected` and that GET answers the same. */
  async function roundTrip(provider: string, body: Record<string, unknown>, expected: Record<string, unknown>) {
    const created = await post(provider, body);
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual(expected);
    const fetched = await get(provider, created.body.id);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
    return created.body;
  }

  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store);
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
  });

  it('requires the admin key on every key route', async () => {
    const routes = [
      ['GET', '/api/keys'],
      ['GET', '/api/providers/openai/keys'],
      ['POST', '/api/providers/openai/keys'],
      ['GET', '/api/providers/openai/keys/any'],
      ['PUT', '/api/providers/openai/keys/any'],
      ['DELETE', '/api/providers/openai/keys/any'],
    ];
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer not-the-admin-key-0000' }]) {
        const body = method === 'POST' || method === 'PUT' ? { value: 'sk-should-not-be-stored-0001' } : undefined;
        const response = await tollgate.request({ method: method!, url: url!, body, headers, admin: false });
        expectError(response, 401);
        expect(response.text).not.toContain('not-the-admin-key');
      }
    }
    expect(tollgate.gateway.services.catalog.snapshot.keys.size).toBe(0);
  });

  it('creates a key with a generated UUID, enabled, weight 1 and every field present', async () => {
    const body = await roundTrip('openai', { name: 'defaults', value: 'sk-defaults-0123456789abcdef' }, {
      id: expect.stringMatching(uuidPattern),
      name: 'defaults',
      value: redacted('sk-defaults-0123456789abcdef'),
      models: [],
      blacklisted_models: [],
      weight: 1,
      ...noConfigs,
      enabled: true,
      use_for_batch_api: false,
      config_hash: '',
      status: 'active',
      description: '',
      customPricingStructureId: null,
      created_at: '2026-11-23T12:00:00.000Z',
      updated_at: '2026-11-23T12:00:00.000Z',
    });
    expect(stored(body.id)?.value).toEqual({ kind: 'value', value: 'sk-defaults-0123456789abcdef' });
    const second = await post('openai', { name: 'defaults-2', value: 'sk-defaults-2-0123456789' });
    expect(second.body.id).toMatch(uuidPattern);
    expect(second.body.id).not.toBe(body.id);
  });

  it('round-trips every top-level field', async () => {
    await roundTrip(
      'openai',
      {
        id: 'openai-all-fields',
        name: 'all fields',
        value: 'sk-all-fields-0123456789abcdef',
        models: ['gpt-4o', 'gpt-4o-mini'],
        blacklisted_models: ['o1'],
        weight: 2.5,
        enabled: false,
        use_for_batch_api: true,
        description: 'the batch key',
        customPricingStructureId: null,
      },
      {
        id: 'openai-all-fields',
        name: 'all fields',
        value: redacted('sk-all-fields-0123456789abcdef'),
        models: ['gpt-4o', 'gpt-4o-mini'],
        blacklisted_models: ['o1'],
        weight: 2.5,
        ...noConfigs,
        enabled: false,
        use_for_batch_api: true,
        config_hash: '',
        status: 'disabled',
        description: 'the batch key',
        customPricingStructureId: null,
        created_at: '2026-11-23T12:00:00.000Z',
        updated_at: '2026-11-23T12:00:00.000Z',
      },
    );
  });

  it('round-trips azure_key_config, secrets redacted and other fields as sent', async () => {
    const body = await roundTrip(
      'azure',
      {
        name: 'azure-full',
        value: 'azure-api-key-0123456789abcdef',
        azure_key_config: {
          endpoint: 'https://contoso.openai.azure.com',
          deployments: { 'gpt-4o': 'gpt4o-prod', 'text-embedding-3-small': 'embed' },
          api_version: '2024-10-21',
          client_id: '00000000-aaaa-bbbb-cccc-000000000001',
          client_secret: 'azure-client-secret-0123456789',
          tenant_id: '00000000-aaaa-bbbb-cccc-000000000002',
          scopes: ['https://cognitiveservices.azure.com/.default'],
          key2: 'azure-secondary-key-0123456789',
        },
      },
      {
        id: expect.stringMatching(uuidPattern),
        name: 'azure-full',
        value: redacted('azure-api-key-0123456789abcdef'),
        models: [],
        blacklisted_models: [],
        weight: 1,
        ...noConfigs,
        azure_key_config: {
          endpoint: literal('https://contoso.openai.azure.com'),
          deployments: { 'gpt-4o': 'gpt4o-prod', 'text-embedding-3-small': 'embed' },
          api_version: literal('2024-10-21'),
          client_id: literal('00000000-aaaa-bbbb-cccc-000000000001'),
          client_secret: redacted('azure-client-secret-0123456789'),
          tenant_id: literal('00000000-aaaa-bbbb-cccc-000000000002'),
          scopes: ['https://cognitiveservices.azure.com/.default'],
          key2: redacted('azure-secondary-key-0123456789'),
        },
        enabled: true,
        use_for_batch_api: false,
        config_hash: '',
        status: 'active',
        description: '',
        customPricingStructureId: null,
        created_at: '2026-11-23T12:00:00.000Z',
        updated_at: '2026-11-23T12:00:00.000Z',
      },
    );
    const record = stored(body.id)!;
    expect(record.azure_key_config?.client_secret).toEqual({ kind: 'value', value: 'azure-client-secret-0123456789' });
    expect(record.azure_key_config?.key2).toEqual({ kind: 'value', value: 'azure-secondary-key-0123456789' });
  });

  it('round-trips vertex_key_config', async () => {
    const credentials = JSON.stringify({ type: 'service_account', project_id: 'proj', private_key: '-----BEGIN PRIVATE KEY-----\nVERTEXSECRET\n-----END PRIVATE KEY-----\n', client_email: 'x@proj.iam.gserviceaccount.com' });
    const body = await roundTrip(
      'vertex',
      {
        name: 'vertex-full',
        vertex_key_config: {
          project_id: 'proj',
          project_number: '123456789012',
          region: 'europe-west4',
          auth_credentials: credentials,
          deployments: { 'gemini-2.0-flash': 'projects/proj/locations/europe-west4/endpoints/42' },
        },
      },
      {
        id: expect.stringMatching(uuidPattern),
        name: 'vertex-full',
        value: empty,
        models: [],
        blacklisted_models: [],
        weight: 1,
        ...noConfigs,
        vertex_key_config: {
          project_id: literal('proj'),
          project_number: literal('123456789012'),
          region: literal('europe-west4'),
          auth_credentials: redacted(credentials),
          deployments: { 'gemini-2.0-flash': 'projects/proj/locations/europe-west4/endpoints/42' },
        },
        enabled: true,
        use_for_batch_api: false,
        config_hash: '',
        status: 'active',
        description: '',
        customPricingStructureId: null,
        created_at: '2026-11-23T12:00:00.000Z',
        updated_at: '2026-11-23T12:00:00.000Z',
      },
    );
    expect(body.vertex_key_config.auth_credentials.value).not.toContain('VERTEXSECRET');
    expect(stored(body.id)?.vertex_key_config?.auth_credentials).toEqual({ kind: 'value', value: credentials });
  });

  it('round-trips bedrock_key_config with batch buckets', async () => {
    const body = await roundTrip(
      'bedrock',
      {
        name: 'bedrock-full',
        bedrock_key_config: {
          access_key: 'AKIAIOSFODNN7EXAMPLE',
          secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          session_token: 'bedrock-session-token-0123456789',
          region: 'us-west-2',
          arn: 'arn:aws:iam::123456789012:role/bedrock',
          deployments: { 'claude-3-5-sonnet': 'us.anthropic.claude-3-5-sonnet-20241022-v2:0' },
          batch_s3_config: { buckets: [{ bucket_name: 'batch-in', prefix: 'jobs/', is_default: true }, { bucket_name: 'batch-other' }] },
        },
      },
      {
        id: expect.stringMatching(uuidPattern),
        name: 'bedrock-full',
        value: empty,
        models: [],
        blacklisted_models: [],
        weight: 1,
        ...noConfigs,
        bedrock_key_config: {
          access_key: redacted('AKIAIOSFODNN7EXAMPLE'),
          secret_key: redacted('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
          session_token: redacted('bedrock-session-token-0123456789'),
          region: literal('us-west-2'),
          arn: literal('arn:aws:iam::123456789012:role/bedrock'),
          deployments: { 'claude-3-5-sonnet': 'us.anthropic.claude-3-5-sonnet-20241022-v2:0' },
          batch_s3_config: { buckets: [{ bucket_name: 'batch-in', prefix: 'jobs/', is_default: true }, { bucket_name: 'batch-other' }] },
        },
        enabled: true,
        use_for_batch_api: false,
        config_hash: '',
        status: 'active',
        description: '',
        customPricingStructureId: null,
        created_at: '2026-11-23T12:00:00.000Z',
        updated_at: '2026-11-23T12:00:00.000Z',
      },
    );
    expect(stored(body.id)?.bedrock_key_config).toMatchObject({
      access_key: { kind: 'value', value: 'AKIAIOSFODNN7EXAMPLE' },
      secret_key: { kind: 'value', value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      session_token: { kind: 'value', value: 'bedrock-session-token-0123456789' },
    });
  });

  it('round-trips replicate, vLLM, Ollama and SGLang sub-configs', async () => {
    const base = {
      models: [],
      blacklisted_models: [],
      weight: 1,
      enabled: true,
      use_for_batch_api: false,
      config_hash: '',
      status: 'active',
      description: '',
      customPricingStructureId: null,
      created_at: '2026-11-23T12:00:00.000Z',
      updated_at: '2026-11-23T12:00:00.000Z',
    };
    await roundTrip(
      'replicate',
      { id: 'replicate-1', name: 'r', value: 'r8_replicate_token_0123456789', replicate_key_config: { deployments: { 'llama-3-70b': 'acme/llama-prod' } } },
      { ...base, ...noConfigs, id: 'replicate-1', name: 'r', value: redacted('r8_replicate_token_0123456789'), replicate_key_config: { deployments: { 'llama-3-70b': 'acme/llama-prod' } } },
    );
    await roundTrip(
      'vllm',
      { id: 'vllm-1', name: 'v', vllm_key_config: { url: 'http://127.0.0.1:8000', model_name: 'meta-llama/Llama-3.1-8B-Instruct' } },
      { ...base, ...noConfigs, id: 'vllm-1', name: 'v', value: empty, vllm_key_config: { url: literal('http://127.0.0.1:8000'), model_name: 'meta-llama/Llama-3.1-8B-Instruct' } },
    );
    await roundTrip(
      'ollama',
      { id: 'ollama-1', name: 'o', ollama_key_config: { url: 'http://127.0.0.1:11434' } },
      { ...base, ...noConfigs, id: 'ollama-1', name: 'o', value: empty, ollama_key_config: { url: literal('http://127.0.0.1:11434') } },
    );
    await roundTrip(
      'sgl',
      { id: 'sgl-1', name: 's', value: 'sgl-optional-token-0123', sgl_key_config: { url: 'http://127.0.0.1:30000' } },
      { ...base, ...noConfigs, id: 'sgl-1', name: 's', value: redacted('sgl-optional-token-0123'), sgl_key_config: { url: literal('http://127.0.0.1:30000') } },
    );
  });

  it('lists keys per provider ({keys, total}) and across providers', async () => {
    const openai = await tollgate.request({ method: 'GET', url: '/api/providers/openai/keys' });
    expect(openai.status).toBe(200);
    expect(Object.keys(openai.body).sort()).toEqual(['keys', 'total']);
    expect(openai.body.total).toBe(openai.body.keys.length);
    expect(openai.body.keys.map((key: { name: string }) => key.name)).toEqual(['defaults', 'defaults-2', 'all fields']);
    for (const key of openai.body.keys) expect((await get('openai', key.id)).body).toEqual(key);

    const none = await tollgate.request({ method: 'GET', url: '/api/providers/groq/keys' });
    expect(none.body).toEqual({ keys: [], total: 0 });

    const all = await tollgate.request({ method: 'GET', url: '/api/keys' });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(tollgate.gateway.services.catalog.snapshot.keys.size);
    expect(all.body.keys).toHaveLength(all.body.total);
    const names = all.body.keys.map((key: { name: string }) => key.name);
    for (const name of ['defaults', 'azure-full', 'vertex-full', 'bedrock-full', 'r', 'v', 'o', 's']) expect(names).toContain(name);
    expect(all.text).not.toContain('0123456789abcdef');
  });

  it('DELETE answers the deleted key and removes it', async () => {
    const created = await post('cerebras', { name: 'to-delete', value: 'cerebras-key-0123456789', models: ['llama3.1-8b'] });
    const before = (await get('cerebras', created.body.id)).body;
    const deleted = await remove('cerebras', created.body.id);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual(before);
    expect(deleted.text).not.toContain('cerebras-key-0123456789');
    expectError(await get('cerebras', created.body.id), 404, { code: 'key_not_found' });
    expectError(await remove('cerebras', created.body.id), 404, { code: 'key_not_found' });
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/cerebras/keys' })).body).toEqual({ keys: [], total: 0 });
    expect(stored(created.body.id)).toBeUndefined();
    // The name is free again.
    expect((await post('cerebras', { name: 'to-delete', value: 'cerebras-key-0123456789' })).status).toBe(201);
  });

  it('keeps every key across a restart', async () => {
    const before = await tollgate.request({ method: 'GET', url: '/api/keys' });
    const records = [...tollgate.gateway.services.catalog.snapshot.keys.values()];
    const environment = tollgate.environment;
    await tollgate.close();
    tollgate = await startTestGateway(store, { environment });
    const after = await tollgate.request({ method: 'GET', url: '/api/keys' });
    expect(after.body.total).toBe(before.body.total);
    const byId = (list: Array<{ id: string }>) => new Map(list.map((key) => [key.id, key]));
    expect(byId(after.body.keys)).toEqual(byId(before.body.keys));
    for (const record of records) expect(stored(record.id)).toEqual(record);
  });
});
