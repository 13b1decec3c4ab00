import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, testAdminKey, type TestGateway } from '../support/test-gateway.js';

type Response = Awaited<ReturnType<TestGateway['request']>>;

const stars = '*'.repeat(24);
const literal = (value: string) => ({ value, env_var: '', from_env: false });

function expectError(response: Response, status: number, expected: { code?: string; param?: string | null } = {}): void {
  expect(response.status, response.text).toBe(status);
  expect(Object.keys(response.body).sort()).toEqual(['error', 'event_id', 'extra_fields', 'is_bifrost_error', 'status_code', 'type']);
  expect(response.body).toMatchObject({ status_code: status, is_bifrost_error: true, error: { event_id: response.body.event_id } });
  expect(response.headers['x-request-id']).toBe(response.body.event_id);
  if (expected.code !== undefined) expect(response.body.error.code).toBe(expected.code);
  if (expected.param !== undefined) expect(response.body.error.param).toBe(expected.param);
}

describe.each(storeKinds)('PUT /v1/models, seed 000 ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  const ids: Record<string, string> = {};

  /** Seed 000's request: the admin key in x-maxim-api-key. */
  const update = (body: unknown) =>
    tollgate.request({ method: 'PUT', url: '/v1/models', body, admin: false, headers: { 'x-maxim-api-key': testAdminKey } });
  const stored = (id: string) => tollgate.gateway.services.catalog.snapshot.keys.get(id)!;
  const getKey = (provider: string, id: string) => tollgate.request({ method: 'GET', url: `/api/providers/${provider}/keys/${id}` });

  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store);
    const keys: Array<[string, string, Record<string, unknown>]> = [
      ['openai', 'primary', { value: 'sk-primary-0123456789abcd', models: ['gpt-4o'], blacklisted_models: ['o1'], weight: 3, description: 'main key', use_for_batch_api: true }],
      ['openai', 'secondary', { value: 'sk-secondary-0123456789' }],
      ['azure', 'azure', { value: 'azure-key-0123456789abcd', azure_key_config: { endpoint: 'https://contoso.openai.azure.com', deployments: { 'gpt-4o': 'dep' } } }],
      ['bedrock', 'bedrock-keys', { bedrock_key_config: { access_key: 'AKIA0000000000000001', secret_key: 'bedrock-secret-0123456789', region: 'eu-west-1' } }],
      ['bedrock', 'bedrock-api-key', { value: 'bedrock-api-key-0123456789' }],
    ];
    for (const [provider, name, body] of keys) {
      const response = await tollgate.request({ method: 'POST', url: `/api/providers/${provider}/keys`, body: { name, ...body } });
      expect(response.status, response.text).toBe(201);
      ids[name] = response.body.id;
    }
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
  });

  it('authenticates with x-maxim-api-key or a Bearer admin key only', async () => {
    expect((await update({ id: ids.secondary })).status).toBe(200);
    const bearer = await tollgate.request({ method: 'PUT', url: '/v1/models', body: { id: ids.secondary } });
    expect(bearer.status).toBe(200);
    for (const headers of [{}, { 'x-maxim-api-key': 'not-the-admin-key-0001' }, { authorization: 'Bearer not-the-admin-key-0002' }]) {
      const response = await tollgate.request({ method: 'PUT', url: '/v1/models', body: { id: ids.secondary, name: 'hijacked' }, admin: false, headers });
      expectError(response, 401);
      expect(response.text).not.toContain('not-the-admin-key');
    }
    expect(stored(ids.secondary!).name).toBe('secondary');
  });

  it('updates name, models and enabled, keeping the secret and every other field', async () => {
    const before = (await getKey('openai', ids.primary!)).body;
    tollgate.clock.now += 60_000;
    const response = await update({ id: ids.primary, name: 'primary-renamed', models: ['gpt-4o', 'gpt-4o-mini'], enabled: false });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({
      data: {
        id: ids.primary,
        name: 'primary-renamed',
        value: `sk-p${stars}abcd`,
        providerId: 'openai',
        enabled: false,
        createdAt: '2026-11-23T12:00:00.000Z',
        updatedAt: '2026-11-23T12:01:00.000Z',
        meta: null,
        customPricingStructureId: null,
        models: [
          { id: 'gpt-4o', label: 'gpt-4o', name: 'gpt-4o', provider: 'openai', config: null },
          { id: 'gpt-4o-mini', label: 'gpt-4o-mini', name: 'gpt-4o-mini', provider: 'openai', config: null },
        ],
      },
    });
    expect(stored(ids.primary!).value).toEqual({ kind: 'value', value: 'sk-primary-0123456789abcd' });
    const after = (await getKey('openai', ids.primary!)).body;
    expect(after).toEqual({
      ...before,
      name: 'primary-renamed',
      models: ['gpt-4o', 'gpt-4o-mini'],
      enabled: false,
      status: 'disabled',
      updated_at: '2026-11-23T12:01:00.000Z',
    });
    // Absent fields keep their values; models may be emptied.
    const emptied = await update({ id: ids.primary, models: [], enabled: true });
    expect(emptied.body.data).toMatchObject({ name: 'primary-renamed', models: [], enabled: true });
    expect(stored(ids.primary!).blacklisted_models).toEqual(['o1']);
  });

  it('replaces the value when sent, keeps it when sent back redacted, refuses a mismatching redacted value', async () => {
    const id = ids.secondary!;
    const replaced = await update({ id, value: 'sk-rotated-9876543210wxyz' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.data.value).toBe(`sk-r${stars}wxyz`);
    expect(stored(id).value).toEqual({ kind: 'value', value: 'sk-rotated-9876543210wxyz' });
    expect((await getKey('openai', id)).body.value).toEqual(literal(`sk-r${stars}wxyz`));

    const sentBack = await update({ id, value: replaced.body.data.value, name: 'secondary-2' });
    expect(sentBack.status).toBe(200);
    expect(stored(id).value).toEqual({ kind: 'value', value: 'sk-rotated-9876543210wxyz' });

    const before = stored(id);
    for (const wrong of [`sk-r${stars}wxy0`, '********']) expectError(await update({ id, value: wrong, name: 'not-applied' }), 400, { param: 'value' });
    expectError(await update({ id, value: '' }), 400, { param: 'value' });
    expect(stored(id)).toEqual(before);

    const reference = await update({ id, value: 'env.OPENAI_SECONDARY' });
    expect(reference.status).toBe(200);
    expect(reference.body.data.value).toBe('env.OPENAI_SECONDARY');
    expect(stored(id).value).toEqual({ kind: 'env', name: 'OPENAI_SECONDARY' });
    const fetched = (await getKey('openai', id)).body;
    expect(fetched.value).toEqual({ value: '', env_var: 'env.OPENAI_SECONDARY', from_env: true });
    expect(fetched.status).toBe('error: environment variable OPENAI_SECONDARY is not set');
    tollgate.environment.OPENAI_SECONDARY = 'sk-from-environment-0001';
    expect((await getKey('openai', id)).body.status).toBe('active');
  });

  it('sets an Azure key2 through meta.key2', async () => {
    const id = ids.azure!;
    const response = await update({ id, meta: { key2: 'azure-second-key-0123456789' } });
    expect(response.status, response.text).toBe(200);
    expect(response.body.data).toMatchObject({ providerId: 'azure', value: `azur${stars}abcd`, meta: { key2: `azur${stars}6789` } });
    expect(stored(id).azure_key_config).toMatchObject({
      endpoint: { kind: 'value', value: 'https://contoso.openai.azure.com' },
      deployments: { 'gpt-4o': 'dep' },
      key2: { kind: 'value', value: 'azure-second-key-0123456789' },
    });
    const fetched = (await getKey('azure', id)).body;
    expect(fetched.azure_key_config.key2).toEqual(literal(`azur${stars}6789`));
    expect(fetched.azure_key_config.endpoint).toEqual(literal('https://contoso.openai.azure.com'));
    // Sent back redacted, key2 is kept; omitted, it is kept too.
    expect((await update({ id, meta: { key2: `azur${stars}6789` } })).status).toBe(200);
    expect((await update({ id, name: 'azure-renamed' })).body.data.meta).toEqual({ key2: `azur${stars}6789` });
    expect(stored(id).azure_key_config?.key2).toEqual({ kind: 'value', value: 'azure-second-key-0123456789' });
    expectError(await update({ id, meta: { key2: `azur${stars}0000` } }), 400, { param: 'meta.key2' });
  });

  it('sets Bedrock secretAccessKey and sessionToken through meta', async () => {
    const id = ids['bedrock-keys']!;
    const response = await update({ id, meta: { secretAccessKey: 'bedrock-secret-rotated-0001', sessionToken: 'bedrock-session-token-0002' } });
    expect(response.status, response.text).toBe(200);
    expect(response.body.data.meta).toEqual({ secretAccessKey: `bedr${stars}0001`, sessionToken: `bedr${stars}0002` });
    expect(response.body.data.value).toBe('');
    expect(stored(id).bedrock_key_config).toMatchObject({
      access_key: { kind: 'value', value: 'AKIA0000000000000001' },
      secret_key: { kind: 'value', value: 'bedrock-secret-rotated-0001' },
      session_token: { kind: 'value', value: 'bedrock-session-token-0002' },
      region: { kind: 'value', value: 'eu-west-1' },
    });
    const fetched = (await getKey('bedrock', id)).body;
    expect(fetched.bedrock_key_config.secret_key).toEqual(literal(`bedr${stars}0001`));
    expect(fetched.bedrock_key_config.session_token).toEqual(literal(`bedr${stars}0002`));

    // A secret access key without an access key id is half a credential.
    const apiKey = ids['bedrock-api-key']!;
    const before = stored(apiKey);
    expectError(await update({ id: apiKey, meta: { secretAccessKey: 'lonely-secret-0123456789' } }), 400, { param: 'bedrock_key_config.access_key' });
    expect(stored(apiKey)).toEqual(before);
    const token = await update({ id: apiKey, meta: { sessionToken: 'session-only-0123456789' } });
    expect(token.status).toBe(200);
    expect(token.body.data.meta).toEqual({ sessionToken: `sess${stars}6789` });
  });

  it('refuses meta fields that do not belong to the key provider', async () => {
    expectError(await update({ id: ids.secondary, meta: { key2: 'key2-0123456789' } }), 400, { param: 'meta.key2' });
    expectError(await update({ id: ids['bedrock-keys'], meta: { key2: 'key2-0123456789' } }), 400, { param: 'meta.key2' });
    expectError(await update({ id: ids.azure, meta: { secretAccessKey: 'secret-0123456789' } }), 400, { param: 'meta.secretAccessKey' });
    expectError(await update({ id: ids.secondary, meta: { sessionToken: 'token-0123456789' } }), 400, { param: 'meta.sessionToken' });
    expect((await update({ id: ids.secondary, meta: null })).status).toBe(200);
    expect((await update({ id: ids.secondary, meta: {} })).status).toBe(200);
    expect(stored(ids.secondary!).azure_key_config).toBeNull();
    expect(stored(ids.secondary!).bedrock_key_config).toBeNull();
  });

  it('requires customPricingStructureId to name an existing pricing structure, and changes nothing when refusing', async () => {
    const before = stored(ids.secondary!);
    expectError(await update({ id: ids.secondary, name: 'not-applied', customPricingStructureId: 'ps_does_not_exist' }), 400, {
      code: 'pricing_structure_not_found',
      param: 'customPricingStructureId',
    });
    expect(stored(ids.secondary!)).toEqual(before);
    const cleared = await update({ id: ids.secondary, customPricingStructureId: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data.customPricingStructureId).toBeNull();
  });

  it('answers 404 for an unknown id and 400 for a malformed body', async () => {
    expectError(await update({ id: 'no-such-key', name: 'x' }), 404, { code: 'key_not_found', param: 'id' });
    expectError(await update({ name: 'x' }), 400, { param: 'id' });
    expectError(await update({ id: '' }), 400, { param: 'id' });
    expectError(await update({ id: ids.secondary, provider: 'openai' }), 400, { code: 'unknown_field', param: 'provider' });
    expectError(await update({ id: ids.secondary, meta: { accessKeyId: 'AKIA0000000000000009' } }), 400, { code: 'unknown_field', param: 'meta.accessKeyId' });
    expectError(await update({ id: ids.secondary, name: '' }), 400, { param: 'name' });
    expectError(await update({ id: ids.secondary, models: 'gpt-4o' }), 400, { param: 'models' });
    expectError(await update({ id: ids.secondary, enabled: 'true' }), 400, { param: 'enabled' });
    expectError(await update({ id: ids.secondary, value: 42 }), 400, { param: 'value' });
    expectError(await update('{"id": '), 400, { code: 'invalid_json' });
    expectError(await update([{ id: ids.secondary }]), 400);
  });

  it('refuses a name already used by another key of the provider', async () => {
    const name = stored(ids.primary!).name;
    expectError(await update({ id: ids.secondary, name }), 409, { param: 'name' });
    // Another provider's key may carry it.
    expect((await update({ id: ids.azure, name })).status).toBe(200);
  });

  it('keeps its updates across a restart', async () => {
    const before = [...tollgate.gateway.services.catalog.snapshot.keys.values()];
    const environment = tollgate.environment;
    await tollgate.close();
    tollgate = await startTestGateway(store, { environment });
    for (const record of before) expect(stored(record.id)).toEqual(record);
    expect(stored(ids.azure!).azure_key_config?.key2).toEqual({ kind: 'value', value: 'azure-second-key-0123456789' });
    const again = await update({ id: ids['bedrock-keys'] });
    expect(again.body.data.meta).toEqual({ secretAccessKey: `bedr${stars}0001`, sessionToken: `bedr${stars}0002` });
  });
});
