/**
 * Malformed input on the management routes: whatever a client sends (bodies of the wrong shape, odd strings and
 * numbers, bad JSON, wrong content types, odd path parameters and query strings), the answer is below 500, a 4xx is
 * the seed-002 error object, no answer repeats a secret the client sent, and no write is lost or changed by a
 * refused request. Explicit cases first (one per bug found), then a seeded fuzz of every create/update route and
 * the report routes' query strings, which ends by restarting the gateway on its store and reading everything back.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { globToRegExp } from '../../src/core/pricing/index.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { mutateBody, mutateQuery, queryText, RawJson, seededRandom, toJsonText } from '../support/json-fuzz.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';
import {
  apiKeyFields,
  contentTypes,
  customProvider,
  fuzzTargets,
  keyBody,
  logsQuery,
  malformedJsonTexts,
  oddSegments,
  pricingFields,
  providerSettings,
  routes,
  updatedProfiles,
  usageQuery,
  type BodyRoute,
} from './malformed-management-routes.js';
import {
  comparable,
  difference,
  expectError,
  globMatches,
  problemsOf,
  regExpAnswersWithin,
  secret,
  secretMarker,
  send,
  sendJson,
  type Answer,
  type Sent,
} from './malformed-management-support.js';

describe.each(storeKinds)('malformed management input, explicit cases ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  let mock: OpenAIMock;

  beforeAll(async () => {
    mock = await startOpenAIMock();
    store = create();
    // A diem worth 4 USD: a diem limit at the largest amount is then worth more USD than the counters hold.
    tollgate = await startTestGateway(store, { ledgerFlushMs: 0, rates: { diemUsd: 4, vcuUsd: 1 } });
    expect((await sendJson(tollgate, 'PUT', '/api/providers/openai', { network_config: { base_url: mock.baseUrl, max_retries: 0 } })).status).toBe(200);
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
    await mock.close();
  });

  it('refuses a NUL character in the text a store column keeps (PostgreSQL text cannot hold one)', async () => {
    expectError(await sendJson(tollgate, 'POST', '/api/providers/openai/keys', { name: 'main\u0000key', value: secret('nul') }), 400, { param: 'name' });
    expectError(await sendJson(tollgate, 'POST', '/api/providers/openai/keys', { id: 'key\u0000id', value: secret('nul') }), 400, { param: 'id' });
    expectError(await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE', description: 'team\u0000a' }), 400, { param: 'description' });
    expectError(await sendJson(tollgate, 'POST', '/api/pricing-structures', { name: 'list\u0000prices', entries: [] }), 400, { param: 'name' });

    const key = await sendJson(tollgate, 'POST', '/api/providers/openai/keys', { name: 'nul-target', value: secret('nul-target') });
    expect(key.status, key.text).toBe(201);
    expectError(await sendJson(tollgate, 'PUT', `/api/providers/openai/keys/${key.body.id}`, { name: 'x\u0000', value: secret('nul') }), 400, { param: 'name' });
    expectError(await sendJson(tollgate, 'PUT', '/v1/models', { id: key.body.id, name: 'renamed\u0000' }), 400, { param: 'name' });
    const apiKey = await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE', description: 'nul target' });
    expect(apiKey.status, apiKey.text).toBe(200);
    expectError(await sendJson(tollgate, 'PATCH', '/api/v1/api_keys', { id: apiKey.body.data.id, description: '\u0000' }), 400, { param: 'description' });
    expect((await sendJson(tollgate, 'GET', `/api/providers/openai/keys/${key.body.id}`)).body.name).toBe('nul-target');
    expect((await sendJson(tollgate, 'GET', `/api/v1/api_keys/${apiKey.body.data.id}`)).body.data.description).toBe('nul target');
  });

  it('refuses an unpaired surrogate in that text, which a store would keep as U+FFFD instead', async () => {
    expectError(await send(tollgate, { method: 'POST', url: '/api/v1/api_keys', text: '{"apiKeyType":"ADMIN","description":"team \\ud800"}', contentType: 'application/json' }), 400, {
      param: 'description',
    });
    expectError(await send(tollgate, { method: 'POST', url: '/api/pricing-structures', text: '{"name":"prices \\udc00","entries":[]}', contentType: 'application/json' }), 400, {
      param: 'name',
    });
    // A paired surrogate is one character (an emoji) and is kept as sent.
    const emoji = await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE', description: 'team \ud83d\ude00' });
    expect(emoji.status, emoji.text).toBe(200);
    expect(emoji.body.data.description).toBe('team \ud83d\ude00');
  });

  it('refuses a NUL character in the filters and cursor of the usage reports', async () => {
    expectError(await sendJson(tollgate, 'GET', '/api/logs?model=gpt%00'), 400, { param: 'model' });
    expectError(await sendJson(tollgate, 'GET', '/api/logs?request_id=%00'), 400, { param: 'request_id' });
    expectError(await sendJson(tollgate, 'GET', '/api/usage?provider=open%00ai'), 400, { param: 'provider' });
    expectError(await sendJson(tollgate, 'GET', '/api/usage?api_key_id=%00'), 400, { param: 'api_key_id' });
    const cursor = Buffer.from(JSON.stringify(['2026-11-23T12:00:00.000Z', 'row\u0000']), 'utf8').toString('base64url');
    expectError(await sendJson(tollgate, 'GET', `/api/logs?cursor=${cursor}`), 400, { param: 'cursor', code: 'invalid_cursor' });
  });

  it('refuses a PUT /v1/models name longer than a key name may be (200 characters, the column holds no more)', async () => {
    const key = await sendJson(tollgate, 'POST', '/api/providers/openai/keys', { name: 'long-name-target', value: secret('long') });
    expect(key.status, key.text).toBe(201);
    expectError(await sendJson(tollgate, 'PUT', '/v1/models', { id: key.body.id, name: 'n'.repeat(201) }), 400, { param: 'name' });
    const longest = await sendJson(tollgate, 'PUT', '/v1/models', { id: key.body.id, name: 'n'.repeat(200) });
    expect(longest.status, longest.text).toBe(200);
    expect(longest.body.data.name).toBe('n'.repeat(200));
  });

  it('refuses consumption and rate limits above what the limit counters hold (1e15)', async () => {
    for (const [field, value] of [
      ['usd', 1e16],
      ['diem', 1e308],
      ['vcu', 1.5e15],
      ['tokens', 2 ** 53 - 1],
      ['requests', 1e15 + 1],
    ] as const) {
      expectError(await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE', consumptionLimit: { [field]: value } }), 400, {
        param: `consumptionLimit.${field}`,
      });
    }
    for (const field of ['rpm', 'tpm', 'maxConcurrent']) {
      expectError(await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE', rateLimits: { [field]: 2 ** 53 - 1 } }), 400, {
        param: `rateLimits.${field}`,
      });
    }
    const target = await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE' });
    expectError(await sendJson(tollgate, 'PATCH', '/api/v1/api_keys', { id: target.body.data.id, consumptionLimit: { usd: 1e300 } }), 400, {
      param: 'consumptionLimit.usd',
    });
  });

  it('serves a key whose limits are the largest accepted, even where a diem is worth more than a USD', async () => {
    const providerKey = await sendJson(tollgate, 'POST', '/api/providers/openai/keys', { name: 'limits', value: secret('limits') });
    expect(providerKey.status, providerKey.text).toBe(201);
    // Only a diem limit: at 4 USD a diem it is a USD cap of 4e15, above what the counters hold.
    const created = await sendJson(tollgate, 'POST', '/api/v1/api_keys', {
      apiKeyType: 'INFERENCE',
      consumptionLimit: { diem: 1e15, tokens: 1e15, requests: 1e15 },
      rateLimits: { rpm: 1e15, tpm: 1e15, maxConcurrent: 1e15 },
    });
    expect(created.status, created.text).toBe(200);
    const chat = await tollgate.request({
      method: 'POST',
      url: '/v1/chat/completions',
      admin: false,
      headers: { authorization: `Bearer ${created.body.data.apiKey}` },
      body: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hello there' }] },
    });
    expect(chat.status, chat.text).toBe(200);
    await tollgate.gateway.flushUsage();
    const view = await sendJson(tollgate, 'GET', `/api/v1/api_keys/${created.body.data.id}`);
    expect(view.status, view.text).toBe(200);
    expect(view.body.data.usage.window.spent.requests).toBe(1);
  });

  it('refuses a pricing rate so large that costs overflow (1e6 USD per million tokens at most)', async () => {
    const entry = { model: 'gpt-4o', input_per_million: 2.5, output_per_million: 10 };
    expectError(await sendJson(tollgate, 'POST', '/api/pricing-structures', { name: 'huge', entries: [{ ...entry, input_per_million: 1e308 }] }), 400, {
      param: 'entries.0.input_per_million',
    });
    expectError(await sendJson(tollgate, 'POST', '/api/pricing-structures', { name: 'huge', entries: [entry, { ...entry, model: '*', output_per_million: 1e7 }] }), 400, {
      param: 'entries.1.output_per_million',
    });
    expectError(await sendJson(tollgate, 'POST', '/api/pricing-structures', { name: 'huge', entries: [{ ...entry, cached_input_per_million: 1e300 }] }), 400, {
      param: 'entries.0.cached_input_per_million',
    });
    const dearest = await sendJson(tollgate, 'POST', '/api/pricing-structures', { id: 'dearest', name: 'dearest', entries: [{ model: '*', input_per_million: 1e6, output_per_million: 1e6 }] });
    expect(dearest.status, dearest.text).toBe(201);
    const providerKey = await sendJson(tollgate, 'POST', '/api/providers/openai/keys', { name: 'dearest', value: secret('dearest'), customPricingStructureId: 'dearest' });
    expect(providerKey.status, providerKey.text).toBe(201);
    const apiKey = await sendJson(tollgate, 'POST', '/api/v1/api_keys', { apiKeyType: 'INFERENCE' });
    const chat = await tollgate.request({
      method: 'POST',
      url: '/v1/chat/completions',
      admin: false,
      headers: { authorization: `Bearer ${apiKey.body.data.apiKey}`, 'x-tollgate-key-id': providerKey.body.id },
      body: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'price me' }] },
    });
    expect(chat.status, chat.text).toBe(200);
    await tollgate.gateway.flushUsage();
    // Costs stay finite, so the reports and the key's view can still be written as JSON.
    const logs = await sendJson(tollgate, 'GET', `/api/logs?api_key_id=${apiKey.body.data.id}`);
    expect(logs.status, logs.text).toBe(200);
    expect(logs.body.logs[0].cost_usd).toBeGreaterThan(0);
    expect((await sendJson(tollgate, 'GET', `/api/v1/api_keys/${apiKey.body.data.id}`)).status).toBe(200);
  });

  it('refuses extra headers that no HTTP request can carry (every request of the provider would fail)', async () => {
    for (const headers of [{ 'x-team': 'a\r\nInjected: yes' }, { 'x-team': 'nul\u0000' }, { 'x-team': 'line\u2028separator' }]) {
      const answer = await sendJson(tollgate, 'PUT', '/api/providers/mistral', { network_config: { extra_headers: headers } });
      expectError(answer, 400, { param: 'network_config.extra_headers' });
      expect(answer.body.error.message).toContain('x-team');
    }
    for (const name of ['transfer-encoding', 'Content-Length', 'keep-alive', 'upgrade', 'expect']) {
      expectError(await sendJson(tollgate, 'PUT', '/api/providers/mistral', { network_config: { extra_headers: { [name]: '1' } } }), 400, {
        param: 'network_config.extra_headers',
      });
    }
    const accepted = await sendJson(tollgate, 'PUT', '/api/providers/mistral', { network_config: { extra_headers: { 'x-team': 'caf\u00e9\ttab', 'x-empty': '' } } });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.network_config.extra_headers).toEqual({ 'x-team': 'caf\u00e9\ttab', 'x-empty': '' });
  });

  it('stores a pricing glob that would backtrack catastrophically, and matches it in linear time', async () => {
    const glob = `${'a*'.repeat(30)}b`;
    const created = await sendJson(tollgate, 'POST', '/api/pricing-structures', { name: 'many stars', entries: [{ model: glob, input_per_million: 1, output_per_million: 1 }] });
    expect(created.status, created.text).toBe(201);
    // The matcher the limit enforcer prices requests with, on a client-chosen model name.
    const matcher = globToRegExp(created.body.entries[0].model);
    expect(await regExpAnswersWithin(matcher, 'a'.repeat(80), 10_000)).toBe(false);
    expect(await regExpAnswersWithin(matcher, `${'a'.repeat(80)}b`, 10_000)).toBe(true);

    // Matching means what it meant: the whole name, `*` any run of characters, case ignored (checked by dynamic
    // programming on seeded globs and names over a small alphabet, where matches and near misses are common).
    const random = seededRandom(7);
    const text = (length: number, alphabet: string): string => Array.from({ length }, () => random.pick([...alphabet])).join('');
    for (let round = 0; round < 2_000; round += 1) {
      const pattern = text(random.below(8), 'aAb.*-');
      const name = text(random.below(10), 'aAb.-\n');
      expect(globToRegExp(pattern).test(name), `${JSON.stringify(pattern)} against ${JSON.stringify(name)}`).toBe(globMatches(pattern, name));
    }
  });
});

const bodiesPerRoute = 300;
const queriesPerRoute = 300;

// SQLite, the embedded default, always; PostgreSQL too when it is reachable, as its text columns refuse more.
describe.each(storeKinds)('malformed management input, seeded fuzz ($name)', ({ create: createStore }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  /** What each object's GET answered after its last accepted write, keyed by that GET's URL. */
  const expected = new Map<string, unknown>();
  /** What the current test found wrong; each test ends by expecting none. */
  const problems: string[] = [];
  /** Log lines of the gateway closed by the restart. */
  const earlierLogs: string[] = [];

  const note = (answer: Answer, context: string): void => {
    for (const problem of problemsOf(answer)) problems.push(`${context}: ${problem}`);
  };
  const read = async (url: string, context: string): Promise<Answer | undefined> => {
    const answer = await sendJson(tollgate, 'GET', url);
    note(answer, `${context} (reading ${url} back)`);
    if (answer.status !== 200) {
      problems.push(`${context}: reading ${url} back answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      return undefined;
    }
    return answer;
  };
  /** Reads back what an accepted write wrote, checks that the answer agrees, and expects it from then on. */
  const recordWrite = async (route: BodyRoute, answer: Answer, iteration: number, context: string): Promise<void> => {
    const readUrl = route.readUrl(answer, iteration);
    const back = await read(readUrl, context);
    if (!back) return;
    if (!route.agrees(answer, back)) problems.push(`${context}: answered ${answer.text.slice(0, 200)} but reads back ${back.text.slice(0, 200)}`);
    expected.set(readUrl, comparable(back.body));
  };
  const create = async (url: string, body: unknown, readUrl: (answer: Answer) => string): Promise<Answer> => {
    const answer = await sendJson(tollgate, 'POST', url, body);
    expect(answer.status, answer.text).toBeLessThan(300);
    const back = await sendJson(tollgate, 'GET', readUrl(answer));
    expect(back.status, back.text).toBe(200);
    expected.set(readUrl(answer), comparable(back.body));
    return answer;
  };

  beforeAll(async () => {
    store = createStore();
    tollgate = await startTestGateway(store);
    // Witnesses: objects no fuzzed request aims at, which must come out of the fuzz exactly as created.
    await create('/api/pricing-structures', { id: 'witness', ...pricingFields('witness') }, () => '/api/pricing-structures/witness');
    await create('/api/providers', { provider: 'witness', ...customProvider, ...providerSettings }, () => '/api/providers/witness');
    for (const profile of ['openai', 'azure', 'bedrock']) {
      const body = { id: `witness-${profile}`, ...keyBody(profile, `witness-${profile}`) };
      await create(`/api/providers/${profile}/keys`, body, () => `/api/providers/${profile}/keys/witness-${profile}`);
    }
    await create('/api/v1/api_keys', { apiKeyType: 'INFERENCE', ...apiKeyFields }, (answer) => `/api/v1/api_keys/${answer.body.data.id}`);
    // Targets of the fuzzed updates.
    await create('/api/pricing-structures', { id: 'fuzz-target', ...pricingFields('fuzz target') }, () => '/api/pricing-structures/fuzz-target');
    await create('/api/providers', { provider: 'fuzz-target', ...customProvider, ...providerSettings }, () => '/api/providers/fuzz-target');
    await create('/api/providers', { provider: 'fuzz-paths', ...customProvider }, () => '/api/providers/fuzz-paths');
    for (const profile of updatedProfiles) {
      const body = { id: `fuzz-target-${profile}`, ...keyBody(profile, `fuzz-target-${profile}`) };
      await create(`/api/providers/${profile}/keys`, body, () => `/api/providers/${profile}/keys/fuzz-target-${profile}`);
    }
    const apiKey = await create('/api/v1/api_keys', { apiKeyType: 'INFERENCE', ...apiKeyFields }, (answer) => `/api/v1/api_keys/${answer.body.data.id}`);
    fuzzTargets.apiKey = apiKey.body.data.id;
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
  });
  beforeEach(() => {
    problems.length = 0;
  });

  it.each(routes.map((route, index) => ({ route, seed: 1_000 + index, name: route.name })))(
    '$name: mutated bodies answer below 500 in the error shape, and refused writes change nothing',
    async ({ route, seed }) => {
      // The unmutated body is accepted, so each mutation is what a refusal answers.
      const valid = await sendJson(tollgate, route.method, route.url(0), route.body(0));
      expect(valid.status, valid.text).toBeLessThan(300);
      const validRead = await read(route.readUrl(valid, 0), `${route.name} valid body`);
      if (validRead) expected.set(route.readUrl(valid, 0), comparable(validRead.body));

      const random = seededRandom(seed);
      const statuses = new Map<number, number>();
      for (let iteration = 1; iteration <= bodiesPerRoute; iteration += 1) {
        const mutation = mutateBody(route.body(iteration), random);
        const url = route.url(iteration);
        const context = `${route.method} ${url} [seed ${seed}, iteration ${iteration}] ${mutation.description}`;
        const answer = await send(tollgate, { method: route.method, url, text: toJsonText(mutation.body), contentType: 'application/json' });
        note(answer, context);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const bodyIsObject = mutation.body !== null && typeof mutation.body === 'object' && !Array.isArray(mutation.body) && !(mutation.body instanceof RawJson);
        if (answer.status === 400 && bodyIsObject && answer.body?.error?.code !== 'invalid_json' && answer.body?.error?.param === null) {
          problems.push(`${context}: a 400 that names no field: ${answer.text.slice(0, 300)}`);
        }
        if (answer.status >= 200 && answer.status < 300) {
          await recordWrite(route, answer, iteration, context);
        } else if (route.targetUrl) {
          const targetUrl = route.targetUrl(iteration);
          const back = await read(targetUrl, context);
          if (back && !isDeepStrictEqual(comparable(back.body), expected.get(targetUrl))) {
            problems.push(`${context}: a refused write (${answer.status}) changed ${targetUrl}: ${back.text.slice(0, 300)}`);
          }
        }
      }
      expect(problems).toEqual([]);
      // The mutations reach past the first check: some bodies stay acceptable, most are refused.
      const accepted = [...statuses].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0);
      expect(accepted, JSON.stringify([...statuses])).toBeGreaterThan(20);
      expect(bodiesPerRoute - accepted, JSON.stringify([...statuses])).toBeGreaterThan(150);
    },
  );

  it('refuses malformed JSON and other content types on every write route', async () => {
    for (const route of routes) {
      const url = route.url(0);
      for (const text of malformedJsonTexts) {
        const answer = await send(tollgate, { method: route.method, url, text, contentType: 'application/json' });
        note(answer, `${route.method} ${url} with ${JSON.stringify(text.slice(0, 40))}`);
        if (answer.status < 400) problems.push(`${route.method} ${url} accepted ${JSON.stringify(text.slice(0, 40))}`);
      }
      for (const contentType of contentTypes) {
        const context = `${route.method} ${url} as ${JSON.stringify(contentType)}`;
        const answer = await send(tollgate, { method: route.method, url, text: toJsonText(route.body(0)), ...(contentType === undefined ? {} : { contentType }) });
        note(answer, context);
        if (answer.status >= 200 && answer.status < 300) await recordWrite(route, answer, 0, context);
      }
      note(await send(tollgate, { method: route.method, url }), `${route.method} ${url} without a body`);
    }
    expect(problems).toEqual([]);
  });

  it('answers odd path parameters below 500 on every route that takes one', async () => {
    const body = { id: 'x', ...pricingFields('path') };
    for (const segment of oddSegments) {
      const requests: Sent[] = [
        { method: 'GET', url: `/api/providers/${segment}` },
        { method: 'PUT', url: `/api/providers/${segment}`, text: toJsonText(providerSettings), contentType: 'application/json' },
        { method: 'DELETE', url: `/api/providers/${segment}` },
        { method: 'GET', url: `/api/providers/${segment}/keys` },
        { method: 'POST', url: `/api/providers/${segment}/keys`, text: toJsonText(keyBody('openai', 'path')), contentType: 'application/json' },
        { method: 'GET', url: `/api/providers/fuzz-paths/keys/${segment}` },
        { method: 'PUT', url: `/api/providers/fuzz-paths/keys/${segment}`, text: toJsonText(keyBody('openai', 'path')), contentType: 'application/json' },
        { method: 'DELETE', url: `/api/providers/fuzz-paths/keys/${segment}` },
        { method: 'GET', url: `/api/pricing-structures/${segment}` },
        { method: 'PUT', url: `/api/pricing-structures/${segment}`, text: toJsonText(body), contentType: 'application/json' },
        { method: 'DELETE', url: `/api/pricing-structures/${segment}` },
        { method: 'GET', url: `/api/v1/api_keys/${segment}` },
        { method: 'DELETE', url: `/api/v1/api_keys/${segment}` },
        { method: 'DELETE', url: `/api/v1/api_keys?id=${segment}` },
      ];
      for (const request of requests) {
        const answer = await send(tollgate, request);
        note(answer, `${request.method} ${request.url.slice(0, 120)}`);
        if (answer.status < 300 && request.method !== 'GET') problems.push(`${request.method} ${request.url.slice(0, 120)} answered ${answer.status}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.each([
    { path: '/api/logs', query: logsQuery, seed: 2_000 },
    { path: '/api/usage', query: usageQuery, seed: 2_001 },
  ])('GET $path: mutated query strings answer below 500 in the error shape', async ({ path, query, seed }) => {
    const valid = await sendJson(tollgate, 'GET', `${path}${queryText(query)}`);
    expect(valid.status, valid.text).toBe(200);
    const random = seededRandom(seed);
    for (let iteration = 1; iteration <= queriesPerRoute; iteration += 1) {
      const mutation = mutateQuery(query, random);
      const url = `${path}${queryText(mutation.parts)}`;
      note(await sendJson(tollgate, 'GET', url), `GET ${url.slice(0, 200)} [seed ${seed}, iteration ${iteration}] ${mutation.description}`);
    }
    // Cursors are opaque, but a client can send any text as one.
    for (const decoded of ['', 'x', '[]', '[1,2]', '["a"]', '["a","b","c"]', '{"a":1}', '["\\u0000","x"]', '["x","\\ud800"]', 'null']) {
      const cursor = Buffer.from(decoded, 'utf8').toString('base64url');
      note(await sendJson(tollgate, 'GET', `/api/logs?cursor=${cursor}`), `GET /api/logs with a cursor of ${decoded}`);
    }
    expect(problems).toEqual([]);
  });

  it('keeps every write: after a restart on the same store, each object reads back as last written', async () => {
    earlierLogs.push(...tollgate.logs);
    await tollgate.close();
    tollgate = await startTestGateway(store);
    expect(expected.size).toBeGreaterThan(20);
    for (const [url, before] of expected) {
      const answer = await read(url, 'after the restart');
      if (answer && !isDeepStrictEqual(comparable(answer.body), before)) {
        problems.push(`${url} reads ${difference(comparable(answer.body), before)} after the restart`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('writes no secret it was sent to any log line', () => {
    const logs = [...earlierLogs, ...tollgate.logs];
    expect(logs.length).toBeGreaterThan(100);
    expect(logs.join('').toLowerCase()).not.toContain(secretMarker);
  });
});
