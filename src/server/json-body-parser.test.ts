import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installJsonBodyParser } from './json-body-parser.js';

async function echoApp() {
  const app = Fastify();
  installJsonBodyParser(app);
  app.post('/echo', async (request) => ({ body: request.body, prototypeIntact: Object.getPrototypeOf(request.body) === Object.prototype }));
  const bytesOf = (request: { jsonBytes: Buffer | null }) => (request.jsonBytes === null ? null : request.jsonBytes.toString('base64'));
  app.post('/raw', async (request) => ({ jsonBytes: bytesOf(request) }));
  app.get('/raw', async (request) => ({ jsonBytes: bytesOf(request) }));
  await app.ready();
  return app;
}

const post = (app: Awaited<ReturnType<typeof echoApp>>, payload: string) =>
  app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });

describe('installJsonBodyParser', () => {
  it('parses ordinary bodies, nested values and unicode text', async () => {
    const app = await echoApp();
    const body = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'héllo — 你好' }], n: 2, extra: null };
    const response = await post(app, JSON.stringify(body));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ body, prototypeIntact: true });
  });

  it('refuses a __proto__ key, also when spelled with unicode escapes', async () => {
    const app = await echoApp();
    for (const payload of ['{"__proto__":{"admin":true}}', '{"\\u005f_proto__":{"admin":true}}', '{"a":{"__pro\\u0074o__":{"admin":true}}}']) {
      const response = await post(app, payload);
      expect(response.statusCode, payload).toBe(400);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    }
  });

  it('refuses a constructor.prototype key', async () => {
    const app = await echoApp();
    const response = await post(app, '{"constructor":{"prototype":{"admin":true}}}');
    expect(response.statusCode).toBe(400);
  });

  it('keeps the word "constructor" inside a string value working (slow path)', async () => {
    const app = await echoApp();
    const response = await post(app, '{"content":"the constructor of a class","escaped":"caf\\u00e9"}');
    expect(response.statusCode).toBe(200);
    expect(response.json().body).toEqual({ content: 'the constructor of a class', escaped: 'café' });
  });

  it('answers invalid and empty bodies with Fastify errors (400)', async () => {
    const app = await echoApp();
    const invalid = await post(app, '{"model":');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().code).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
    const empty = await post(app, '');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('FST_ERR_CTP_EMPTY_JSON_BODY');
  });

  it('keeps the body bytes as request.jsonBytes, on the plain and the secure path alike', async () => {
    const app = await echoApp();
    for (const payload of ['{ "model" : "m", "temperature": 1.0 }', '{"content":"caf\\u00e9","note":"constructor"}', '{"content":"héllo — 你好 😀"}']) {
      const response = await app.inject({ method: 'POST', url: '/raw', headers: { 'content-type': 'application/json' }, payload });
      expect(response.statusCode, payload).toBe(200);
      expect(Buffer.from(response.json().jsonBytes, 'base64').toString('utf8'), payload).toBe(payload);
    }
  });

  it('leaves request.jsonBytes null for a request without a JSON body', async () => {
    const app = await echoApp();
    const response = await app.inject({ method: 'GET', url: '/raw' });
    expect(response.json()).toEqual({ jsonBytes: null });
  });
});
