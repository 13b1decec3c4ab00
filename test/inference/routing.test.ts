/**
 * Model routing and key choice end to end: weighted choice over many requests (seeded), the key filters (models
 * allow-list, blacklist, disabled keys), bare model names, ambiguous and unknown names, provider prefixes holding
 * slashes, pinning a key with `x-tollgate-key-id`, and what a keyless custom provider serves (bare names, /v1/models).
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatBody, immediateRetries, post, seededRandom } from './inference-helpers.js';

/** Which upstream key served each recorded request, by its bearer. */
function servedBy(mock: OpenAIMock, from = 0): string[] {
  return mock.requests.slice(from).map((request) => String(request.headers.authorization).replace(/^Bearer /, ''));
}

function count(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

describe('weighted key choice', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-light', 'sk-medium', 'sk-heavy'] });
    tollgate = await startLiveGateway({ random: seededRandom(20_261_123) });
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'light', value: 'sk-light', weight: 1 });
    await tollgate.addKey('openai', { name: 'medium', value: 'sk-medium', weight: 2 });
    await tollgate.addKey('openai', { name: 'heavy', value: 'sk-heavy', weight: 7 });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('spreads 1,000 requests near the weights 1:2:7', async () => {
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const before = mock.requests.length;
    const headerKeys: string[] = [];
    for (let index = 0; index < 1000; index += 1) {
      const { response } = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'w' }] }).withResponse();
      headerKeys.push(response.headers.get('x-tollgate-key-id')!);
    }
    const counts = count(servedBy(mock, before));
    expect(counts['sk-light']! + counts['sk-medium']! + counts['sk-heavy']!).toBe(1000);
    // Expected 100, 200, 700; the bounds are more than 4 standard deviations wide, and a uniform choice
    // (333 each) or an inverted one falls far outside them.
    expect(counts['sk-light']).toBeGreaterThanOrEqual(60);
    expect(counts['sk-light']).toBeLessThanOrEqual(140);
    expect(counts['sk-medium']).toBeGreaterThanOrEqual(145);
    expect(counts['sk-medium']).toBeLessThanOrEqual(255);
    expect(counts['sk-heavy']).toBeGreaterThanOrEqual(640);
    expect(counts['sk-heavy']).toBeLessThanOrEqual(760);
    // The response header names the key that served, consistently with what the upstream received.
    expect(Object.values(count(headerKeys)).sort((a, b) => a - b)).toEqual(Object.values(counts).sort((a, b) => a - b));
  });
});

describe('key filters and model names', () => {
  let openaiMock: OpenAIMock;
  let groqMock: OpenAIMock;
  let openrouterMock: OpenAIMock;
  let tollgate: LiveGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    openaiMock = await startOpenAIMock({ apiKeys: ['sk-only-4o', 'sk-any', 'sk-blacklisting', 'sk-disabled'] });
    groqMock = await startOpenAIMock({ apiKeys: ['gsk-custom'], pathPrefix: '/openai' });
    openrouterMock = await startOpenAIMock({ apiKeys: ['sk-or-1'], pathPrefix: '/api' });
    tollgate = await startLiveGateway({ random: seededRandom(7) });
    await tollgate.configureProvider('openai', { network_config: { base_url: openaiMock.baseUrl, ...immediateRetries } });
    await tollgate.configureProvider('groq', { network_config: { base_url: groqMock.baseUrl, ...immediateRetries } });
    await tollgate.configureProvider('openrouter', { network_config: { base_url: openrouterMock.baseUrl, ...immediateRetries } });
    ids.only4o = await tollgate.addKey('openai', { name: 'only-4o', value: 'sk-only-4o', models: ['gpt-4o'] });
    ids.any = await tollgate.addKey('openai', { name: 'any', value: 'sk-any', blacklisted_models: ['gpt-4.1'] });
    // Listed and blacklisted at once: the blacklist wins.
    ids.blacklisting = await tollgate.addKey('openai', { name: 'blacklisting', value: 'sk-blacklisting', models: ['o3', 'gpt-4.1'], blacklisted_models: ['o3'] });
    ids.disabled = await tollgate.addKey('openai', { name: 'disabled', value: 'sk-disabled', enabled: false, weight: 100 });
    ids.groq = await tollgate.addKey('groq', { name: 'groq', value: 'gsk-custom', models: ['house-model', 'shared-model'] });
    ids.openrouter = await tollgate.addKey('openrouter', { name: 'openrouter', value: 'sk-or-1', models: ['shared-model', 'openai/gpt-4o'] });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([openaiMock.close(), groqMock.close(), openrouterMock.close()]);
  });

  async function servedKeys(model: string, times: number): Promise<string[]> {
    const before = openaiMock.requests.length;
    for (let index = 0; index < times; index += 1) {
      const reply = await post(tollgate, '/v1/chat/completions', chatBody(model));
      expect(reply.status, reply.text).toBe(200);
    }
    return servedBy(openaiMock, before);
  }

  it('uses a key with a models list only for those models', async () => {
    expect(new Set(await servedKeys('openai/gpt-4o-mini', 30))).toEqual(new Set(['sk-any']));
    // gpt-4o may be served by both the listing key and the unrestricted one.
    expect(new Set(await servedKeys('openai/gpt-4o', 40))).toEqual(new Set(['sk-only-4o', 'sk-any']));
  });

  it('never uses a key for a blacklisted model, even one it lists', async () => {
    expect(new Set(await servedKeys('openai/o3', 30))).toEqual(new Set(['sk-any']));
    expect(new Set(await servedKeys('openai/gpt-4.1', 30))).toEqual(new Set(['sk-blacklisting']));
  });

  it('never uses a disabled key, and says so when nothing is left', async () => {
    expect(servedBy(openaiMock)).not.toContain('sk-disabled');
    const before = openaiMock.requests.length;
    // Only the disabled key would serve a model that every enabled key excludes.
    const updated = await tollgate.request({ method: 'PUT', url: `/api/providers/openai/keys/${ids.any}`, body: { name: 'any', value: 'sk-any', blacklisted_models: ['gpt-4.1', 'gpt-5'] } });
    expect(updated.status).toBe(200);
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-5'));
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('no_eligible_key');
    expect(reply.body.error.message).toContain('no enabled key that serves model "gpt-5"');
    expect(openaiMock.requests.length).toBe(before);
  });

  it('resolves a bare model name through the models list of a key', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('house-model'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('x-tollgate-provider')).toBe('groq');
    expect(reply.headers.get('x-tollgate-model')).toBe('house-model');
    expect((groqMock.requests.at(-1)!.body as { model: string }).model).toBe('house-model');
  });

  it('resolves a bare well-known model name to the provider whose adapter knows it', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('gpt-4o-mini'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('x-tollgate-provider')).toBe('openai');
  });

  it('refuses an ambiguous bare name with a 400 listing the choices', async () => {
    const before = groqMock.requests.length + openrouterMock.requests.length;
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('shared-model'));
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('model_ambiguous');
    expect(reply.body.error.message).toContain('"groq/shared-model"');
    expect(reply.body.error.message).toContain('"openrouter/shared-model"');
    expect(reply.body.error.message).toContain('provider/model');
    expect(groqMock.requests.length + openrouterMock.requests.length).toBe(before);
  });

  it('refuses an unknown provider prefix with a 400 saying how to address models', async () => {
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'nosuchprovider/gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const message = (error as Error).message;
    expect(message).toContain('nosuchprovider/gpt-4o');
    expect(message).toMatch(/address it as provider\/model \(for example "openai\/gpt-4o"\)/);
  });

  it('splits provider/model on the first slash only', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openrouter/openai/gpt-4o'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('x-tollgate-provider')).toBe('openrouter');
    expect(reply.headers.get('x-tollgate-model')).toBe('openai/gpt-4o');
    expect(openrouterMock.requests.at(-1)!.path).toBe('/api/v1/chat/completions');
    expect((openrouterMock.requests.at(-1)!.body as { model: string }).model).toBe('openai/gpt-4o');
    // The same text without the openrouter prefix is OpenAI's gpt-4o.
    const direct = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(direct.headers.get('x-tollgate-provider')).toBe('openai');
    expect((openaiMock.requests.at(-1)!.body as { model: string }).model).toBe('gpt-4o');
  });
});

describe('pinning a key with x-tollgate-key-id', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-rare', 'sk-common', 'sk-mini-only', 'sk-off'] });
    tollgate = await startLiveGateway({ random: seededRandom(99) });
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, ...immediateRetries } });
    ids.rare = await tollgate.addKey('openai', { name: 'rare', value: 'sk-rare', weight: 0.01 });
    ids.common = await tollgate.addKey('openai', { name: 'common', value: 'sk-common', weight: 100 });
    ids.miniOnly = await tollgate.addKey('openai', { name: 'mini-only', value: 'sk-mini-only', models: ['gpt-4o-mini'] });
    ids.off = await tollgate.addKey('openai', { name: 'off', value: 'sk-off', enabled: false });
  });
  afterEach(() => {
    mock.requests.length = 0;
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('always uses the pinned key, whatever its weight', async () => {
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    for (let index = 0; index < 20; index += 1) {
      const { response } = await client.chat.completions
        .create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'p' }] }, { headers: { 'x-tollgate-key-id': ids.rare! } })
        .withResponse();
      expect(response.headers.get('x-tollgate-key-id')).toBe(ids.rare);
    }
    expect(new Set(servedBy(mock))).toEqual(new Set(['sk-rare']));
  });

  it('pins streams too', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'pinned stream', { stream: true }), { headers: { 'x-tollgate-key-id': ids.rare! } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-tollgate-key-id')).toBe(ids.rare);
    expect(reply.text).toContain('data: [DONE]');
    expect(servedBy(mock)).toEqual(['sk-rare']);
  });

  it.each([
    ['a key whose models list excludes the model', 'miniOnly'],
    ['a disabled key', 'off'],
    ['a key that does not exist', 'missing'],
  ])('refuses with a 400 when the pinned key is %s', async (_label, name) => {
    const pinned = ids[name] ?? 'no-such-key-id';
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { headers: { 'x-tollgate-key-id': pinned } });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('pinned_key_not_eligible');
    expect(reply.body.error.param).toBe('x-tollgate-key-id');
    expect(reply.body.error.message).toContain(pinned);
    expect(mock.requests).toHaveLength(0);
  });

  it('pins for embeddings', async () => {
    const reply = await post(tollgate, '/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'x' }, { headers: { 'x-tollgate-key-id': ids.rare! } });
    expect(reply.status, reply.text).toBe(200);
    expect(servedBy(mock)).toEqual(['sk-rare']);
  });
});

describe('a keyless custom provider', () => {
  let openaiMock: OpenAIMock;
  let localMock: OpenAIMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    openaiMock = await startOpenAIMock({ apiKeys: ['sk-openai'] });
    localMock = await startOpenAIMock();
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: openaiMock.baseUrl, ...immediateRetries } });
    const created = await tollgate.request({
      method: 'POST',
      url: '/api/providers',
      body: { provider: 'local-open', custom_provider_config: { base_provider_type: 'openai', is_key_less: true }, network_config: { base_url: localMock.baseUrl, ...immediateRetries } },
    });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([openaiMock.close(), localMock.close()]);
  });

  async function listedIds(bearer: string): Promise<string[]> {
    const response = await fetch(`${tollgate.url}/v1/models`, { headers: { authorization: `Bearer ${bearer}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: Array<{ id: string }> }).data.map((model) => model.id);
  }

  it("lists its base type's well-known models in GET /v1/models as provider/model", async () => {
    const known = tollgate.gateway.services.adapters.get('openai')!.knownModels;
    const ids = await listedIds(testAdminKey);
    expect(ids.filter((id) => id.startsWith('local-open/'))).toEqual([...known].sort().map((model) => `local-open/${model}`));
    // OpenAI itself has no key yet, so it offers nothing.
    expect(ids.filter((id) => id.startsWith('openai/'))).toEqual([]);
  });

  it("keeps an API key's models restriction on the list", async () => {
    const created = await tollgate.request({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', models: ['local-open/gpt-4o'] } });
    expect(created.status, created.text).toBe(200);
    expect(await listedIds(created.body.data.apiKey)).toEqual(['local-open/gpt-4o']);
  });

  it('answers for a bare well-known name of its base type, without a credential', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('gpt-4o-mini', 'bare and keyless'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('x-tollgate-provider')).toBe('local-open');
    expect(reply.headers.get('x-tollgate-key-id')).toBe('keyless:local-open');
    const seen = localMock.requests.at(-1)!;
    expect(seen.headers.authorization).toBeUndefined();
    expect((seen.body as { model: string }).model).toBe('gpt-4o-mini');
    expect(openaiMock.requests).toHaveLength(0);
  });

  it('makes a bare name ambiguous once a provider with a key serves it too, and says how to address each', async () => {
    await tollgate.addKey('openai', { name: 'openai', value: 'sk-openai' });
    const before = localMock.requests.length;
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('gpt-4o-mini'));
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('model_ambiguous');
    expect(reply.body.error.message).toContain('"openai/gpt-4o-mini"');
    expect(reply.body.error.message).toContain('"local-open/gpt-4o-mini"');
    expect(reply.body.error.message).toContain('provider/model');
    expect(localMock.requests.length + openaiMock.requests.length).toBe(before);
    const prefixed = await post(tollgate, '/v1/chat/completions', chatBody('local-open/gpt-4o-mini'));
    expect(prefixed.headers.get('x-tollgate-provider')).toBe('local-open');
  });
});
