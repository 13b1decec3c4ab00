import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';

type Response = Awaited<ReturnType<TestGateway['request']>>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Infrastructure routes that are deliberately left out of the API description. */
const undocumented = new Set(['/health', '/ready', '/openapi.json', '/metrics']);
const oneMiB = 1024 * 1024;

/** The seed-002 error object, every field. */
function expectError(response: Response, status: number, code?: string): void {
  expect(response.status, response.text).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  const body = response.body;
  expect(Object.keys(body).sort()).toEqual(['error', 'event_id', 'extra_fields', 'is_bifrost_error', 'status_code', 'type']);
  expect(body.status_code).toBe(status);
  expect(body.is_bifrost_error).toBe(true);
  expect(body.type).toBe(body.error.type);
  expect(typeof body.event_id).toBe('string');
  expect(body.event_id).not.toBe('');
  expect(body.error.event_id).toBe(body.event_id);
  expect(response.headers['x-request-id']).toBe(body.event_id);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'event_id', 'message', 'param', 'type']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message).not.toBe('');
  expect(Object.keys(body.extra_fields).sort()).toEqual(['model_requested', 'provider', 'request_type']);
  if (code !== undefined) expect(body.error.code).toBe(code);
}

/** Every method and path the app serves, read from Fastify's route tree (`:param` style). */
function registeredRoutes(app: FastifyInstance): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?\s*$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    for (const method of (match[3] ?? '').split(',').map((name) => name.trim()).filter(Boolean)) {
      routes.push({ method, path: stack.join('') });
    }
  }
  return routes;
}

describe.each(storeKinds)('errors, health and the API description ($name)', ({ create }) => {
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

  /** Write routes of the management API, with a URL that exists. */
  const writeRoutes = async () => {
    const key = await tollgate.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: `target-${Math.random()}`, value: 'sk-target-0123456789' } });
    expect(key.status).toBe(201);
    return [
      ['POST', '/api/providers'],
      ['PUT', '/api/providers/openai'],
      ['POST', '/api/providers/openai/keys'],
      ['PUT', `/api/providers/openai/keys/${key.body.id}`],
      ['PUT', '/v1/models'],
    ] as const;
  };

  it('answers /health without credentials', async () => {
    const response = await tollgate.request({ method: 'GET', url: '/health', admin: false });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['x-request-id']).toMatch(uuidPattern);
  });

  it('answers /ready while the store answers, and 503 in the error shape when it does not', async () => {
    const ready = await tollgate.request({ method: 'GET', url: '/ready', admin: false });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });

    const probe = await startTestGateway(store);
    try {
      expect((await probe.request({ method: 'GET', url: '/ready', admin: false })).status).toBe(200);
      await probe.database.close();
      const down = await probe.request({ method: 'GET', url: '/ready', admin: false });
      expectError(down, 503, 'store_unavailable');
      expect(down.body.type).toBe('service_unavailable_error');
    } finally {
      await probe.gateway.close();
    }
  });

  it('describes every API route in /openapi.json', async () => {
    const response = await tollgate.request({ method: 'GET', url: '/openapi.json', admin: false });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\.1/);
    const paths = response.body.paths as Record<string, Record<string, unknown>>;
    const documented = new Set(Object.entries(paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)));

    const routes = registeredRoutes(tollgate.gateway.app).filter((route) => route.method !== 'HEAD' && route.method !== 'OPTIONS');
    // The parser reads the tree: the deepest management route must be among what it found.
    expect(routes).toContainEqual({ method: 'PUT', path: '/api/providers/:provider/keys/:key_id' });
    // Both sides in OpenAPI style; a wildcard is written `/*` by Fastify's tree and `/{*}` by the description.
    const normalise = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/?(\{\*\}|\*)$/, '/{*}');
    const served = routes.filter((route) => !undocumented.has(route.path)).map((route) => `${route.method} ${normalise(route.path)}`);
    const described = [...documented].map((entry) => entry.replace(/ (.*)$/, (_all, path: string) => ` ${normalise(path)}`));
    expect(described.sort()).toEqual([...new Set(served)].sort());

    for (const route of [
      'GET /api/providers',
      'POST /api/providers',
      'GET /api/providers/{provider}',
      'PUT /api/providers/{provider}',
      'DELETE /api/providers/{provider}',
      'GET /api/providers/{provider}/keys',
      'POST /api/providers/{provider}/keys',
      'GET /api/providers/{provider}/keys/{key_id}',
      'PUT /api/providers/{provider}/keys/{key_id}',
      'DELETE /api/providers/{provider}/keys/{key_id}',
      'GET /api/keys',
      'PUT /v1/models',
    ]) {
      expect(documented, route).toContain(route);
    }
    const createKey = paths['/api/providers/{provider}/keys']!.post as { requestBody?: unknown; responses: Record<string, unknown> };
    expect(createKey.requestBody).toBeDefined();
    expect(createKey.responses['201']).toBeDefined();
    expect(JSON.stringify(paths['/v1/models'])).toContain('customPricingStructureId');
  });

  it('echoes a well-formed x-request-id and generates one otherwise', async () => {
    const sent = await tollgate.request({ method: 'GET', url: '/api/providers', headers: { 'x-request-id': 'client-req.42:abc_DEF' } });
    expect(sent.status).toBe(200);
    expect(sent.headers['x-request-id']).toBe('client-req.42:abc_DEF');

    const failed = await tollgate.request({ method: 'GET', url: '/api/providers/nope', headers: { 'x-request-id': 'trace-0001' } });
    expectError(failed, 404);
    expect(failed.body.event_id).toBe('trace-0001');

    const unauthenticated = await tollgate.request({ method: 'GET', url: '/api/providers', admin: false, headers: { 'x-request-id': 'trace-0002' } });
    expectError(unauthenticated, 401);
    expect(unauthenticated.body.event_id).toBe('trace-0002');

    const generated = new Set<string>();
    for (const header of [undefined, 'has spaces in it', 'x'.repeat(129), '<script>', '']) {
      const response = await tollgate.request({ method: 'GET', url: '/health', admin: false, headers: header === undefined ? {} : { 'x-request-id': header } });
      const id = String(response.headers['x-request-id']);
      expect(id).toMatch(uuidPattern);
      generated.add(id);
    }
    expect(generated.size).toBe(5);
    const longest = 'y'.repeat(128);
    expect((await tollgate.request({ method: 'GET', url: '/health', admin: false, headers: { 'x-request-id': longest } })).headers['x-request-id']).toBe(longest);
  });

  it('answers 404 in the error shape for an unknown route or method', async () => {
    for (const [method, url, admin] of [
      ['GET', '/nope', false],
      ['GET', '/api/nope', true],
      ['POST', '/api/keys', true],
      ['PATCH', '/api/providers/openai', true],
      ['GET', '/v2/models', false],
      ['DELETE', '/v1/models', true],
    ] as const) {
      const response = await tollgate.request({ method, url, admin });
      expectError(response, 404, 'route_not_found');
      expect(response.body.type).toBe('not_found_error');
    }
  });

  it('answers 400 invalid_json for a malformed or empty JSON body on every write route', async () => {
    for (const [method, url] of await writeRoutes()) {
      for (const text of ['{"name": ', '{name: "x"}', "{'a': 1}", '{"a":1}}', '\u0000']) {
        expectError(await tollgate.request({ method, url, body: text }), 400, 'invalid_json');
      }
      expectError(await tollgate.request({ method, url, body: '' }), 400, 'invalid_json');
    }
  });

  it('answers 413 for a body over 1 MiB on management routes, and reads one just under', async () => {
    for (const [method, url] of await writeRoutes()) {
      const over = JSON.stringify({ description: 'x'.repeat(oneMiB) });
      expect(Buffer.byteLength(over)).toBeGreaterThan(oneMiB);
      const response = await tollgate.request({ method, url, body: over });
      expectError(response, 413, 'request_too_large');
    }
    const prefix = '{"name":"big","value":"sk-big-0123456789","description":"';
    const under = `${prefix}${'x'.repeat(oneMiB - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(under)).toBe(oneMiB);
    const response = await tollgate.request({ method: 'POST', url: '/api/providers/openai/keys', body: under });
    // Read and validated: the description is too long, which is a 400 naming it, not a 413.
    expectError(response, 400);
    expect(response.body.error.param).toBe('description');
  });

  it('answers 415 for a body that is not JSON', async () => {
    for (const [method, url] of await writeRoutes()) {
      for (const [type, payload] of [
        ['text/plain', '{"name":"x"}'],
        ['application/xml', '<key/>'],
        ['application/x-www-form-urlencoded', 'name=x&value=y'],
        ['multipart/form-data; boundary=abc', '--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--abc--\r\n'],
      ] as const) {
        const response = await tollgate.request({ method, url, body: payload, headers: { 'content-type': type } });
        expectError(response, 415, 'unsupported_media_type');
      }
    }
    // JSON with a charset is JSON.
    const charset = await tollgate.request({
      method: 'POST',
      url: '/api/providers/openai/keys',
      body: JSON.stringify({ name: 'charset', value: 'sk-charset-0123456789' }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(charset.status).toBe(201);
  });

  it('answers 4xx, never 500, to bodies of the wrong shape', async () => {
    const deep = `{"value":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const bodies = [
      'null',
      '[]',
      '[{}]',
      '1',
      '"text"',
      'true',
      '{}',
      '{"value":{}}',
      '{"value":[]}',
      '{"value":null}',
      '{"id":1}',
      '{"id":null,"name":null}',
      '{"models":[1,2]}',
      '{"weight":"1"}',
      '{"weight":1e400}',
      '{"azure_key_config":"x"}',
      '{"bedrock_key_config":{"batch_s3_config":{"buckets":"x"}}}',
      '{"vllm_key_config":{}}',
      '{"meta":[]}',
      '{"network_config":{"base_url":5}}',
      '{"provider":{"name":"x"}}',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      deep,
    ];
    for (const [method, url] of await writeRoutes()) {
      for (const body of bodies) {
        const response = await tollgate.request({ method, url, body });
        // Some of these are valid for some routes (`{}` resets a provider's settings); none may fail the server.
        expect(response.status, `${method} ${url} ${body.slice(0, 60)} → ${response.text.slice(0, 200)}`).toBeLessThan(500);
        if (response.status >= 400) expectError(response, response.status);
        else expect(body).toMatch(/^\{/);
      }
    }
    expect(tollgate.logs.some((line) => line.includes('"level":50'))).toBe(false);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  // Fastify raises these before routing; create-app.ts renders them through `frameworkErrors`.
  it('answers 4xx in the error shape to malformed paths', async () => {
    for (const url of ['/api/providers/%E0%A4%A/keys', '/api/providers/openai/keys/%', `/api/providers/openai/keys/${'k'.repeat(5000)}`]) {
      const response = await tollgate.request({ method: 'GET', url });
      expect(response.status, `${url.slice(0, 60)} → ${response.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expectError(response, response.status);
    }
  });
});
