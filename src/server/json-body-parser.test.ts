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

  it('parses bodies whose text escapes every character outside ASCII, as Python clients send them', async () => {
    const app = await echoApp();
    const body = { model: 'm', messages: [{ role: 'user', content: '你好, Ça été très réussi 😀' }] };
    const escaped = JSON.stringify(body).replace(/[\u0080-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(escaped).not.toMatch(/[^\x00-\x7f]/);
    const response = await post(app, escaped);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ body, prototypeIntact: true });
  });

  it("accepts and refuses exactly the bodies Fastify's own parser does", async () => {
    const app = await echoApp();
    const plain = Fastify();
    plain.post('/echo', async (request) => ({ body: request.body }));
    await plain.ready();
    const payloads = [
      '{"a":{"b":[{"__proto__":{"admin":true}}]}}',
      '{"x":[{"\\u0063onstructor":{"prototype":{"admin":true}}}]}',
      '{"x":{"constructor":{"prototype":1}}}',
      '{"constructor":{"name":"not a prototype"}}',
      '{"constructor":"a string"}',
      '{"content":"class A { constructor() { this.__proto__ = null; } }"}',
      '{"content":"a \\"constructor\\" and a \\"__proto__\\" quoted in a value"}',
      '{"constructor" :{"prototype":{}}}',
      '{"__proto__"\n:{"admin":true}}',
      '{"content":"caf\\u00e9","note":"\\u005f_proto__ written as text"}',
      '{"\\u005F\\u005Fproto\\u005F\\u005F" :{"admin":true}}',
      '{"__proto__x":1,"x__proto__":2}',
      '\ufeff{"a":1}',
      '[{"__proto__":1}]',
      '"\\u005f_proto__"',
    ];
    for (const payload of payloads) {
      const ours = await post(app, payload);
      const theirs = await plain.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
      expect(ours.statusCode, payload).toBe(theirs.statusCode);
      if (theirs.statusCode === 200) expect(ours.json().body, payload).toEqual(theirs.json().body);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
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

  it('keeps the body bytes as request.jsonBytes, whichever way the body was parsed', async () => {
    const app = await echoApp();
    // Plain, checked for dangerous keys (an escape, a word), and through the secure parser (a byte-order mark).
    for (const payload of ['{ "model" : "m", "temperature": 1.0 }', '{"content":"caf\\u00e9","note":"constructor"}', '{"content":"héllo — 你好 😀"}', '\ufeff{"a":1}']) {
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
