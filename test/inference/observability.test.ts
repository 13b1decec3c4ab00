/**
 * What an operator sees of inference traffic: the request id (honoured or generated), `GET /metrics` counting
 * requests and tokens by provider and model, and the one log line per request naming provider, model, key,
 * status, latency and tokens, without any secret.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startStallingStreamMock } from '../mocks/stalling-stream-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatBody, immediateRetries, post, whenLogged, whenReceived } from './inference-helpers.js';

const upstreamSecret = 'sk-live-observability-secret-0001';
const envSecret = 'sk-from-environment-secret-0002';
const revokedSecret = 'sk-revoked-observability-secret-0003';

let mock: OpenAIMock;
let tollgate: LiveGateway;
let client: OpenAI;
let keyId: string;
let envKeyId: string;

beforeAll(async () => {
  mock = await startOpenAIMock({ apiKeys: [upstreamSecret, envSecret] });
  tollgate = await startLiveGateway({ environment: { GROQ_KEY: envSecret } });
  await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 0, ...immediateRetries } });
  keyId = await tollgate.addKey('openai', { name: 'observed', value: upstreamSecret });
  const groq = await startOpenAIMock({ apiKeys: [envSecret], pathPrefix: '/openai' });
  mocks.push(groq);
  await tollgate.configureProvider('groq', { network_config: { base_url: groq.baseUrl, max_retries: 0, ...immediateRetries } });
  envKeyId = await tollgate.addKey('groq', { name: 'from-env', value: 'env.GROQ_KEY' });
  await tollgate.addKey('groq', { name: 'revoked', value: revokedSecret, weight: 1000 });
  client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
});

const mocks: OpenAIMock[] = [];
const mocksToClose: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await tollgate.dispose();
  await Promise.all([mock.close(), ...[...mocks, ...mocksToClose].map((entry) => entry.close())]);
});

/** The JSON log lines the gateway wrote with message "request". */
function requestLines(): Array<Record<string, any>> {
  return tollgate.logs
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((line) => line.msg === 'request');
}

function lineFor(requestId: string): Record<string, any> {
  const lines = requestLines().filter((line) => line.requestId === requestId);
  expect(lines, `one log line for ${requestId}`).toHaveLength(1);
  return lines[0]!;
}

/** One sample of a Prometheus text exposition, found by name and labels (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((entry) => [entry[1], entry[2]]));
    if (Object.entries(labels).every(([label, value]) => found[label] === value)) return Number(match[3]);
  }
  return 0;
}

async function metricsText(): Promise<string> {
  const response = await fetch(`${tollgate.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('x-request-id', () => {
  it('is honoured when the client sends a valid one, on completions, streams and errors', async () => {
    const plain = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { headers: { 'x-request-id': 'trace-abc.123:1' } });
    expect(plain.headers.get('x-request-id')).toBe('trace-abc.123:1');
    const stream = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'x', { stream: true }), { headers: { 'x-request-id': 'trace-stream-2' } });
    expect(stream.headers.get('x-request-id')).toBe('trace-stream-2');
    const failed = await post(tollgate, '/v1/chat/completions', chatBody('nowhere/model'), { headers: { 'x-request-id': 'trace-error-3' } });
    expect(failed.status).toBe(400);
    expect(failed.headers.get('x-request-id')).toBe('trace-error-3');
    expect(failed.body.event_id).toBe('trace-error-3');
  });

  it('is generated when absent or unusable', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const first = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    const second = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(first.headers.get('x-request-id')).toMatch(uuid);
    expect(second.headers.get('x-request-id')).toMatch(uuid);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
    const unusable = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { headers: { 'x-request-id': 'has spaces and "quotes"' } });
    expect(unusable.headers.get('x-request-id')).toMatch(uuid);
    const tooLong = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { headers: { 'x-request-id': 'a'.repeat(200) } });
    expect(tooLong.headers.get('x-request-id')).toMatch(uuid);
  });
});

describe('GET /metrics', () => {
  it('counts requests and tokens by provider and model', async () => {
    const before = await metricsText();
    const labels = { provider: 'openai', model: 'gpt-4.1-mini' };
    const requestsBefore = sample(before, 'tollgate_requests_total', { route: 'chat', ...labels, status: '200' });
    const streamsBefore = sample(before, 'tollgate_requests_total', { route: 'chat-stream', ...labels, status: '200' });
    const inputBefore = sample(before, 'tollgate_tokens_total', { ...labels, kind: 'input' });
    const outputBefore = sample(before, 'tollgate_tokens_total', { ...labels, kind: 'output' });
    const servedAttemptsBefore = sample(before, 'tollgate_upstream_attempts_total', { provider: 'openai', outcome: 'ok' });
    const failedAttemptsBefore = sample(before, 'tollgate_upstream_attempts_total', { provider: 'openai', outcome: 'failed' });

    let input = 0;
    let output = 0;
    for (const content of ['count these tokens please', 'and these']) {
      const completion = await client.chat.completions.create({ model: 'openai/gpt-4.1-mini', messages: [{ role: 'user', content }] });
      input += completion.usage!.prompt_tokens;
      output += completion.usage!.completion_tokens;
    }
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4.1-mini',
      messages: [{ role: 'user', content: 'streamed tokens count too' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      if (chunk.usage) {
        input += chunk.usage.prompt_tokens;
        output += chunk.usage.completion_tokens;
      }
    }
    mock.enqueue({ status: 400, body: { error: { message: 'bad', type: 'invalid_request_error', param: null, code: 'bad_field' } } });
    expect((await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4.1-mini'))).status).toBe(400);
    const embedded = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['one', 'two'] });

    const after = await metricsText();
    expect(sample(after, 'tollgate_requests_total', { route: 'chat', ...labels, status: '200' }) - requestsBefore).toBe(2);
    expect(sample(after, 'tollgate_requests_total', { route: 'chat-stream', ...labels, status: '200' }) - streamsBefore).toBe(1);
    expect(sample(after, 'tollgate_requests_total', { route: 'chat', ...labels, status: '400' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'tollgate_tokens_total', { ...labels, kind: 'input' }) - inputBefore).toBe(input);
    expect(sample(after, 'tollgate_tokens_total', { ...labels, kind: 'output' }) - outputBefore).toBe(output);
    expect(input).toBeGreaterThan(0);
    expect(sample(after, 'tollgate_requests_total', { route: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'tollgate_tokens_total', { provider: 'openai', model: 'text-embedding-3-small', kind: 'input' })).toBeGreaterThanOrEqual(embedded.usage.prompt_tokens);
    // Every attempt, of chat and embeddings alike, and also of a request no key served (the 400).
    expect(sample(after, 'tollgate_upstream_attempts_total', { provider: 'openai', outcome: 'ok' }) - servedAttemptsBefore).toBe(4);
    expect(sample(after, 'tollgate_upstream_attempts_total', { provider: 'openai', outcome: 'failed' }) - failedAttemptsBefore).toBe(1);
  });
});

describe('the per-request log line', () => {
  it('names provider, model, key, status, latency and tokens of a completion', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'log me' }] }, { headers: { 'x-request-id': 'log-plain-1' } })
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe('log-plain-1');
    const line = lineFor('log-plain-1');
    expect(line).toMatchObject({
      method: 'POST',
      route: '/v1/chat/completions',
      status: 200,
      provider: 'openai',
      model: 'gpt-4o',
      keyId,
      stream: false,
      tokens: { input: data.usage!.prompt_tokens, output: data.usage!.completion_tokens, cached: 0 },
    });
    expect(typeof line.latencyMs).toBe('number');
  });

  it('carries the tokens of a stream, known only at its end', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'a streamed line', { stream: true }), { headers: { 'x-request-id': 'log-stream-2' } });
    expect(reply.text).toContain('[DONE]');
    const line = lineFor('log-stream-2');
    expect(line).toMatchObject({ status: 200, provider: 'openai', model: 'gpt-4o', keyId, stream: true });
    expect(line.tokens.input).toBeGreaterThan(0);
    expect(line.tokens.output).toBeGreaterThan(0);
  });

  it('names the provider of an upstream error and its code', async () => {
    mock.enqueue({ status: 503, body: { error: { message: 'overloaded', type: 'server_error', param: null, code: null } } });
    await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { headers: { 'x-request-id': 'log-error-3' } });
    expect(lineFor('log-error-3')).toMatchObject({ status: 503, provider: 'openai', errorCode: expect.any(String) });
  });

  it('is written for a stream the client abandoned', async () => {
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const start = mock.requests.length;
    const pending = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'x', { stream: true }), {
      headers: { 'x-request-id': 'log-abort-4' },
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await whenReceived(mock.requests, start + 1);
    controller.abort();
    await mock.whenAborted();
    await pending;
    await whenLogged(tollgate.logs, (line) => line.includes('"requestId":"log-abort-4"'));
    expect(lineFor('log-abort-4')).toMatchObject({ status: 499, route: '/v1/chat/completions', provider: 'openai', errorCode: 'client_closed_request' });
  });

  it('names the key of a stream the client abandoned mid-way', async () => {
    const stalling = await startStallingStreamMock();
    mocksToClose.push(stalling);
    await tollgate.request({
      method: 'POST',
      url: '/api/providers',
      body: { provider: 'stalling', custom_provider_config: { base_provider_type: 'openai' }, network_config: { base_url: stalling.baseUrl } },
    });
    const stallingKey = await tollgate.addKey('stalling', { name: 'stalling', value: 'sk-stalling-secret-0004' });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'stalling/slow', messages: [{ role: 'user', content: 'x' }], stream: true },
      { signal: controller.signal, headers: { 'x-request-id': 'log-abort-mid-7' } },
    );
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content === 'words ') controller.abort();
    await stalling.whenAborted();
    await whenLogged(tollgate.logs, (line) => line.includes('"requestId":"log-abort-mid-7"'));
    expect(lineFor('log-abort-mid-7')).toMatchObject({
      status: 499,
      provider: 'stalling',
      model: 'slow',
      keyId: stallingKey,
      stream: true,
      errorCode: 'client_closed_request',
    });
  });

  it('names the key an env reference resolved to, and the embeddings tokens', async () => {
    // The revoked key (weight 1000) is refused first; the env-referenced key serves.
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('groq/llama-3.3-70b-versatile'), { headers: { 'x-request-id': 'log-env-5' } });
    expect(reply.status, reply.text).toBe(200);
    expect(lineFor('log-env-5')).toMatchObject({ provider: 'groq', model: 'llama-3.3-70b-versatile', keyId: envKeyId });
    const embedded = await post(tollgate, '/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'abc' }, { headers: { 'x-request-id': 'log-embed-6' } });
    expect(lineFor('log-embed-6')).toMatchObject({ status: 200, provider: 'openai', model: 'text-embedding-3-small', keyId, tokens: { input: embedded.body.usage.prompt_tokens, output: 0 } });
  });

  it('holds no secret anywhere in the log', async () => {
    const everything = tollgate.logs.join('');
    expect(everything.length).toBeGreaterThan(0);
    for (const secret of [upstreamSecret, envSecret, revokedSecret, 'sk-stalling-secret-0004', testAdminKey]) expect(everything).not.toContain(secret);
    // Not even a recognisable part of one.
    for (const secret of [upstreamSecret, envSecret, revokedSecret]) expect(everything).not.toContain(secret.slice(-12));
  });
});
