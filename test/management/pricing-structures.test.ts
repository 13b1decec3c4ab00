import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pricingStructureRoutes } from '../../src/api/management/pricing-structures.js';
import { providerKeyRoutes } from '../../src/api/management/provider-keys.js';
import { KeyService } from '../../src/core/management/key-service.js';
import { PricingStructureService } from '../../src/core/management/pricing-structure-service.js';
import { ProviderService } from '../../src/core/management/provider-service.js';
import { priceFromStructure } from '../../src/core/pricing/index.js';
import { Catalog } from '../../src/store/catalog.js';
import type { Database } from '../../src/store/database.js';
import { PricingStructureRepository } from '../../src/store/pricing-structure-repository.js';
import { ProviderKeyRepository } from '../../src/store/provider-key-repository.js';
import { ProviderRepository } from '../../src/store/provider-repository.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { mountRoutes, type MountedRoutes } from '../support/mount-routes.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { testEncryptionKey } from '../support/test-gateway.js';

type Response = Awaited<ReturnType<MountedRoutes['request']>>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectError(response: Response, status: number, expected: { code?: string; param?: string | null } = {}): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body.is_bifrost_error).toBe(true);
  expect(response.body.status_code).toBe(status);
  if (expected.code !== undefined) expect(response.body.error.code).toBe(expected.code);
  if (expected.param !== undefined) expect(response.body.error.param).toBe(expected.param);
}

/** The pricing-structure and provider-key services and routes, wired the way create-app is to wire them. */
async function wire(database: Database, clock: { now: number }) {
  const catalog = new Catalog();
  const providerRepository = new ProviderRepository(database.db);
  const keyRepository = new ProviderKeyRepository(database.db, new SecretBox(testEncryptionKey));
  catalog.replace(await providerRepository.list(), await keyRepository.list());
  const changed = async () => undefined;
  const pricingStructures = new PricingStructureService({
    repository: new PricingStructureRepository(database.db),
    clock: () => clock.now,
    keyReferences: (id) => [...catalog.snapshot.keys.values()].filter((key) => key.customPricingStructureId === id).map((key) => key.id),
    changed,
  });
  await pricingStructures.load();
  const pricingStructureExists = (id: string) => pricingStructures.exists(id);
  const providers = new ProviderService({ catalog, providers: providerRepository, keys: keyRepository, clock: () => clock.now, changed });
  const keys = new KeyService({
    catalog,
    keys: keyRepository,
    providers,
    clock: () => clock.now,
    readEnvironment: () => undefined,
    pricingStructureExists,
    changed,
  });
  const routes = await mountRoutes([
    pricingStructureRoutes(pricingStructures),
    providerKeyRoutes({ keys, providers, pricingStructureExists, clock: () => clock.now }),
  ]);
  return { pricingStructures, routes };
}

const selfHosted = {
  id: 'self-hosted',
  name: 'Self-hosted GPUs',
  entries: [
    { model: 'meta-llama/Llama-3.3-70B*', input_per_million: 0.5, output_per_million: 1.5, cached_input_per_million: 0.1 },
    { model: '*', input_per_million: 0.2, output_per_million: 0.4 },
  ],
};

describe.each(storeKinds)('pricing structures API ($name)', ({ create }) => {
  let store: TestStore;
  let database: Database;
  let service: PricingStructureService;
  let api: MountedRoutes;
  const clock = { now: Date.parse('2026-11-23T12:00:00.000Z') };

  beforeAll(async () => {
    store = create();
    database = await store.open();
    const wired = await wire(database, clock);
    service = wired.pricingStructures;
    api = wired.routes;
  });
  afterAll(async () => {
    await api?.close();
    await database?.close();
    await store?.dispose();
  });

  it('refuses callers without the admin key', async () => {
    for (const [method, url] of [['GET', '/api/pricing-structures'], ['POST', '/api/pricing-structures'], ['DELETE', '/api/pricing-structures/x']]) {
      const response = await api.request({ method: method!, url: url!, admin: false, ...(method === 'POST' ? { body: selfHosted } : {}) });
      expectError(response, 401);
    }
    expect(service.list()).toEqual([]);
  });

  it('starts empty', async () => {
    const response = await api.request({ method: 'GET', url: '/api/pricing-structures' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ pricing_structures: [], total: 0 });
  });

  it('creates a structure with the given id, and one with a generated UUID', async () => {
    const created = await api.request({ method: 'POST', url: '/api/pricing-structures', body: selfHosted });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      id: 'self-hosted',
      name: 'Self-hosted GPUs',
      entries: [
        { model: 'meta-llama/Llama-3.3-70B*', input_per_million: 0.5, output_per_million: 1.5, cached_input_per_million: 0.1, cache_write_per_million: null, cache_write_long_per_million: null },
        { model: '*', input_per_million: 0.2, output_per_million: 0.4, cached_input_per_million: null, cache_write_per_million: null, cache_write_long_per_million: null },
      ],
      created_at: '2026-11-23T12:00:00.000Z',
      updated_at: '2026-11-23T12:00:00.000Z',
    });
    const generated = await api.request({
      method: 'POST',
      url: '/api/pricing-structures',
      body: { name: 'Azure discount', entries: [{ model: 'gpt-4o', input_per_million: 2, output_per_million: 8, cached_input_per_million: null }] },
    });
    expect(generated.status, generated.text).toBe(201);
    expect(generated.body.id).toMatch(uuidPattern);

    const fetched = await api.request({ method: 'GET', url: '/api/pricing-structures/self-hosted' });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
    const list = await api.request({ method: 'GET', url: '/api/pricing-structures' });
    expect(list.body.total).toBe(2);
    // Sorted by name.
    expect(list.body.pricing_structures.map((structure: { name: string }) => structure.name)).toEqual(['Azure discount', 'Self-hosted GPUs']);
    expect(list.body.pricing_structures[1]).toEqual(created.body);
  });

  it('keeps cache-write rates, for Anthropic-style prompt caching priced by the operator', async () => {
    const entry = { model: 'claude-*', input_per_million: 3, output_per_million: 15, cached_input_per_million: 0.3, cache_write_per_million: 3.75, cache_write_long_per_million: 6 };
    const created = await api.request({ method: 'POST', url: '/api/pricing-structures', body: { id: 'claude-contract', name: 'Claude contract', entries: [entry] } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.entries).toEqual([entry]);
    expect((await api.request({ method: 'GET', url: '/api/pricing-structures/claude-contract' })).body.entries).toEqual([entry]);
    expect((await api.request({ method: 'DELETE', url: '/api/pricing-structures/claude-contract' })).status).toBe(200);
  });

  it('refuses a duplicate id with 409', async () => {
    const duplicate = await api.request({ method: 'POST', url: '/api/pricing-structures', body: { ...selfHosted, name: 'Other' } });
    expectError(duplicate, 409, { code: 'pricing_structure_exists', param: 'id' });
    expect((await api.request({ method: 'GET', url: '/api/pricing-structures/self-hosted' })).body.name).toBe('Self-hosted GPUs');
  });

  it('names unknown and invalid fields', async () => {
    const post = (body: unknown) => api.request({ method: 'POST', url: '/api/pricing-structures', body });
    const entry = { model: 'm', input_per_million: 1, output_per_million: 1 };
    expectError(await post({ name: 'x', entries: [], currency: 'EUR' }), 400, { code: 'unknown_field', param: 'currency' });
    expectError(await post({ name: 'x', entries: [entry, { ...entry, model: 'n', price: 3 }] }), 400, { code: 'unknown_field', param: 'entries.1.price' });
    expectError(await post({ name: 'x', entries: [{ ...entry, input_per_million: -0.01 }] }), 400, { param: 'entries.0.input_per_million' });
    expectError(await post({ name: 'x', entries: [{ ...entry, output_per_million: '1' }] }), 400, { param: 'entries.0.output_per_million' });
    expectError(await post({ name: 'x', entries: [{ ...entry, cached_input_per_million: -1 }] }), 400, { param: 'entries.0.cached_input_per_million' });
    expectError(await post({ name: 'x', entries: [{ ...entry, cache_write_per_million: -1 }] }), 400, { param: 'entries.0.cache_write_per_million' });
    expectError(await post({ name: 'x', entries: [{ ...entry, cache_write_long_per_million: '6' }] }), 400, { param: 'entries.0.cache_write_long_per_million' });
    expectError(await post({ name: 'x', entries: [{ ...entry, model: '' }] }), 400, { param: 'entries.0.model' });
    expectError(await post({ name: 'x', entries: [{ input_per_million: 1, output_per_million: 1 }] }), 400, { param: 'entries.0.model' });
    expectError(await post({ name: 'x', entries: [entry, { ...entry, model: 'M' }] }), 400, { param: 'entries.1.model' });
    expectError(await post({ name: '', entries: [] }), 400, { param: 'name' });
    expectError(await post({ entries: [] }), 400, { param: 'name' });
    expectError(await post({ name: 'x' }), 400, { param: 'entries' });
    expectError(await post({ id: 'has space', name: 'x', entries: [] }), 400, { param: 'id' });
    expectError(await post('{not json'), 400, { code: 'invalid_json' });
    expect(service.list()).toHaveLength(2);
  });

  it('replaces a structure with PUT, keeps created_at, and accepts a fetched body sent back', async () => {
    clock.now = Date.parse('2026-11-24T08:30:00.000Z');
    const put = await api.request({
      method: 'PUT',
      url: '/api/pricing-structures/self-hosted',
      body: { name: 'Self-hosted (2027)', entries: [{ model: 'qwen*', input_per_million: 0, output_per_million: 0.25 }] },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({
      id: 'self-hosted',
      name: 'Self-hosted (2027)',
      entries: [{ model: 'qwen*', input_per_million: 0, output_per_million: 0.25, cached_input_per_million: null, cache_write_per_million: null, cache_write_long_per_million: null }],
      created_at: '2026-11-23T12:00:00.000Z',
      updated_at: '2026-11-24T08:30:00.000Z',
    });
    const again = await api.request({ method: 'PUT', url: '/api/pricing-structures/self-hosted', body: put.body });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(put.body);
    expect((await api.request({ method: 'GET', url: '/api/pricing-structures/self-hosted' })).body).toEqual(put.body);

    const mismatch = await api.request({ method: 'PUT', url: '/api/pricing-structures/self-hosted', body: { ...put.body, id: 'other' } });
    expectError(mismatch, 400, { param: 'id' });
    const unknown = await api.request({ method: 'PUT', url: '/api/pricing-structures/self-hosted', body: { ...put.body, owner: 'me' } });
    expectError(unknown, 400, { code: 'unknown_field', param: 'owner' });
  });

  it('answers 404 for an unknown id', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await api.request({
        method,
        url: '/api/pricing-structures/nope',
        ...(method === 'PUT' ? { body: { name: 'x', entries: [] } } : {}),
      });
      expectError(response, 404, { code: 'pricing_structure_not_found', param: 'id' });
    }
  });

  it('lets provider keys reference only existing structures, and refuses to delete one in use, naming the keys', async () => {
    const unknown = await api.request({
      method: 'POST',
      url: '/api/providers/openai/keys',
      body: { name: 'k0', value: 'sk-test-0000000000000', customPricingStructureId: 'missing' },
    });
    expectError(unknown, 400, { param: 'customPricingStructureId' });

    const first = await api.request({
      method: 'POST',
      url: '/api/providers/openai/keys',
      body: { id: 'key-one', name: 'k1', value: 'sk-test-1111111111111', customPricingStructureId: 'self-hosted' },
    });
    expect(first.status, first.text).toBe(201);
    const second = await api.request({
      method: 'POST',
      url: '/api/providers/groq/keys',
      body: { id: 'key-two', name: 'k2', value: 'gsk-test-2222222222222', customPricingStructureId: 'self-hosted' },
    });
    expect(second.status, second.text).toBe(201);

    const refused = await api.request({ method: 'DELETE', url: '/api/pricing-structures/self-hosted' });
    expectError(refused, 409, { code: 'pricing_structure_in_use', param: 'id' });
    expect(refused.body.error.message).toContain('"key-one"');
    expect(refused.body.error.message).toContain('"key-two"');
    expect(service.exists('self-hosted')).toBe(true);

    // Changing one key is not enough; moving both frees the structure.
    await api.request({ method: 'PUT', url: '/api/providers/openai/keys/key-one', body: { ...first.body, value: 'sk-test-1111111111111', customPricingStructureId: null } });
    const stillRefused = await api.request({ method: 'DELETE', url: '/api/pricing-structures/self-hosted' });
    expectError(stillRefused, 409, { code: 'pricing_structure_in_use' });
    expect(stillRefused.body.error.message).not.toContain('key-one');
    expect((await api.request({ method: 'DELETE', url: '/api/providers/groq/keys/key-two' })).status).toBe(200);

    const before = (await api.request({ method: 'GET', url: '/api/pricing-structures/self-hosted' })).body;
    const deleted = await api.request({ method: 'DELETE', url: '/api/pricing-structures/self-hosted' });
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual(before);
    expectError(await api.request({ method: 'GET', url: '/api/pricing-structures/self-hosted' }), 404);
    expect(service.exists('self-hosted')).toBe(false);
    const afterDelete = await api.request({
      method: 'POST',
      url: '/api/providers/openai/keys',
      body: { name: 'k3', value: 'sk-test-3333333333333', customPricingStructureId: 'self-hosted' },
    });
    expectError(afterDelete, 400, { param: 'customPricingStructureId' });
  });

  it('serves exists and find from memory, with the first matching glob winning', async () => {
    await api.request({ method: 'POST', url: '/api/pricing-structures', body: selfHosted });
    const structure = service.find('self-hosted');
    expect(structure).toBeDefined();
    expect(service.find('self-hosted')).toBe(structure);
    expect(Object.isFrozen(structure)).toBe(true);
    expect(priceFromStructure(structure!, 'meta-llama/llama-3.3-70b-instruct')).toMatchObject({ inputPerMillion: 0.5, outputPerMillion: 1.5, cachedInputPerMillion: 0.1 });
    expect(priceFromStructure(structure!, 'anything-else')).toMatchObject({ inputPerMillion: 0.2, outputPerMillion: 0.4, cachedInputPerMillion: 0.2 });
    expect(service.find('nope')).toBeUndefined();

    // A replaced structure is a new object, so the pricing module's per-object cache cannot serve stale prices.
    await api.request({ method: 'PUT', url: '/api/pricing-structures/self-hosted', body: { name: 'x', entries: [{ model: '*', input_per_million: 9, output_per_million: 9 }] } });
    const replaced = service.find('self-hosted')!;
    expect(replaced).not.toBe(structure);
    expect(priceFromStructure(replaced, 'meta-llama/llama-3.3-70b-instruct')).toMatchObject({ inputPerMillion: 9 });
  });

  it('keeps structures across a restart, and answers exists/find without the database', async () => {
    const listed = (await api.request({ method: 'GET', url: '/api/pricing-structures' })).body;
    const reopened = await store.open();
    const restarted = new PricingStructureService({
      repository: new PricingStructureRepository(reopened.db),
      clock: () => clock.now,
      keyReferences: () => [],
    });
    await restarted.load();
    await reopened.close();
    // The database is closed: these answers can only come from memory.
    expect(restarted.exists('self-hosted')).toBe(true);
    expect(restarted.find('self-hosted')?.entries[0]?.input_per_million).toBe(9);
    expect(restarted.list()).toEqual(listed.pricing_structures);
  });

  it('documents the routes in OpenAPI with the output schemas as components', async () => {
    const document = api.app.swagger() as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/pricing-structures', '/api/pricing-structures/{id}']));
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['PricingStructure', 'PricingStructureList']));
  });
});
