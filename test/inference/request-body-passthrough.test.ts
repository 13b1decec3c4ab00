/**
 * The upstream chat body end to end, byte for byte: a client body written with unusual spellings (whitespace,
 * `1.0`, `1e3`, `\u00e9` and `\/` escapes) reaches the OpenAI mock, and a fallback's mock, with the model
 * rewritten, `fallbacks` removed, the stream fields set for the upstream, and every other member exactly as sent.
 * Members come in the validated body's order, as before members were copied: the route's schema puts the fields it
 * names (model, messages, stream, stream_options, max_tokens, ...) first, then the others in the client's order.
 * A recording proxy in front of each mock keeps the bodies' text, which the mocks themselves only parse.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { immediateRetries } from './inference-helpers.js';

interface RecordingProxy {
  /** The proxy's origin followed by the mock's path prefix: a provider base URL. */
  baseUrl: string;
  /** Each request body as text, in arrival order. */
  bodies: string[];
  close(): Promise<void>;
}

const hopHeaders = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** Forwards every request to `mock` unchanged (replies are buffered whole) and records the body text. */
async function startRecordingProxy(mock: OpenAIMock): Promise<RecordingProxy> {
  const target = new URL(mock.baseUrl);
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !hopHeaders.has(name))) as Record<string, string>;
      const upstream = await fetch(`${target.origin}${request.url ?? '/'}`, { method: request.method ?? 'GET', headers, ...(text === '' ? {} : { body: text }) });
      const replyHeaders: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!hopHeaders.has(name) && name !== 'content-encoding') replyHeaders[name] = value;
      });
      response.writeHead(upstream.status, replyHeaders);
      response.end(Buffer.from(await upstream.arrayBuffer()));
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}${target.pathname.replace(/\/+$/, '')}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The client's members, each spelled as a client might, in order. */
const member = {
  model: '"model" : "openai/gpt-4o-mini"',
  messages: '"messages": [ {"role":"system","content":"Be \\"brief\\".\\n"},\n    {"role": "user", "content": "caf\\u00e9 \\/ {\\"not\\": [\\"json\\"]}"} ]',
  temperature: '"temperature":1.0',
  fallbacks: '"fallbacks": ["groq/llama-3.3-70b-versatile"]',
  maxTokens: '"max_tokens": 1e3',
  metadata: '"metadata":{ "trace" : "a\\/b", "weight": -0.50 }',
};

function clientText(...members: string[]): string {
  return `{\n  ${members.join(',\n  ')}\n}\n`;
}

async function postText(tollgate: LiveGateway, text: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${tollgate.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
    body: text,
  });
  return { status: response.status, text: await response.text() };
}

const serverError = { status: 503, body: { error: { message: 'upstream failure 503', type: 'server_error', param: null, code: null } } };

describe('the upstream chat body', () => {
  let openaiMock: OpenAIMock;
  let groqMock: OpenAIMock;
  let openaiProxy: RecordingProxy;
  let groqProxy: RecordingProxy;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    openaiMock = await startOpenAIMock({ apiKeys: ['sk-primary'] });
    groqMock = await startOpenAIMock({ apiKeys: ['gsk-fallback'], pathPrefix: '/openai' });
    openaiProxy = await startRecordingProxy(openaiMock);
    groqProxy = await startRecordingProxy(groqMock);
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: openaiProxy.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.configureProvider('groq', { network_config: { base_url: groqProxy.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'primary', value: 'sk-primary' });
    await tollgate.addKey('groq', { name: 'fallback', value: 'gsk-fallback' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([openaiProxy.close(), groqProxy.close()]);
    await Promise.all([openaiMock.close(), groqMock.close()]);
  });

  it('keeps every member but the model, the fallbacks, the stream fields and a renamed one exactly as the client wrote it', async () => {
    const text = clientText(member.model, member.messages, member.temperature, member.fallbacks, member.maxTokens, member.metadata, '"stream": false');
    const reply = await postText(tollgate, text);
    expect(reply.status, reply.text).toBe(200);
    expect(JSON.parse(reply.text).choices[0].message.content).toBe('café / {"not": ["json"]}');
    // OpenAI's reasoning models refuse max_tokens: its adapter sends the current name, with the client's value.
    expect(openaiProxy.bodies.at(-1)).toBe(`{"model":"gpt-4o-mini",${member.messages},"max_completion_tokens":1000,${member.temperature},${member.metadata}}`);
  });

  it('leaves max_tokens as written for a custom provider on the OpenAI adapter (a local server may not know the newer name)', async () => {
    const created = await tollgate.request({
      method: 'POST',
      url: '/api/providers',
      body: { provider: 'local-llm', custom_provider_config: { base_provider_type: 'openai' }, network_config: { base_url: openaiProxy.baseUrl, max_retries: 0 } },
    });
    expect(created.status, created.text).toBe(201);
    await tollgate.addKey('local-llm', { name: 'local', value: 'sk-primary' });
    const reply = await postText(tollgate, clientText('"model":"local-llm/tiny-chat"', member.messages, member.maxTokens));
    expect(reply.status, reply.text).toBe(200);
    expect(openaiProxy.bodies.at(-1)).toBe(`{"model":"tiny-chat",${member.messages},${member.maxTokens}}`);
  });

  it('sends the same body, with its own model, to a fallback after the primary failed', async () => {
    const text = clientText(member.model, member.messages, member.temperature, member.fallbacks, member.maxTokens, member.metadata);
    const openaiBefore = openaiProxy.bodies.length;
    const groqBefore = groqProxy.bodies.length;
    openaiMock.enqueue(serverError);
    // Groq's rules drop messages[].name; no message has one, so its messages are copied as written too.
    const reply = await postText(tollgate, text);
    expect(reply.status, reply.text).toBe(200);
    expect(openaiProxy.bodies.slice(openaiBefore)).toEqual([`{"model":"gpt-4o-mini",${member.messages},"max_completion_tokens":1000,${member.temperature},${member.metadata}}`]);
    // Groq knows max_tokens: the fallback's body keeps it as written.
    expect(groqProxy.bodies.slice(groqBefore)).toEqual([`{"model":"llama-3.3-70b-versatile",${member.messages},${member.maxTokens},${member.temperature},${member.metadata}}`]);
  });

  it('streams with the client stream member kept and stream_options replaced', async () => {
    const stream = '"stream" :true';
    const streamOptions = '"stream_options": { "include_usage": false }';
    const text = clientText(member.model, stream, streamOptions, member.messages, member.fallbacks, member.temperature);
    const reply = await postText(tollgate, text);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.text).toContain('data: [DONE]');
    expect(openaiProxy.bodies.at(-1)).toBe(`{"model":"gpt-4o-mini",${member.messages},${stream},"stream_options":{"include_usage":true},${member.temperature}}`);
  });

  it('adds the stream options a streaming client left out, after its own members', async () => {
    const text = clientText(member.metadata, '"stream":true', member.messages, member.model);
    const reply = await postText(tollgate, text);
    expect(reply.status, reply.text).toBe(200);
    expect(openaiProxy.bodies.at(-1)).toBe(`{"model":"gpt-4o-mini",${member.messages},"stream":true,${member.metadata},"stream_options":{"include_usage":true}}`);
  });
});
