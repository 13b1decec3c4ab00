/**
 * Dispatch resilience end to end: retries on 5xx (then success, or exhausted), key rotation on 429 with a cooldown
 * driven by the injected clock, a 401 marking a key as failing, and fallbacks to other providers.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatBody, getKey, immediateRetries, post, seededRandom } from './inference-helpers.js';

function bearers(mock: OpenAIMock, from = 0): string[] {
  return mock.requests.slice(from).map((request) => String(request.headers.authorization).replace(/^Bearer /, ''));
}

const serverError = (status: number) => ({ status, body: { error: { message: `upstream failure ${status}`, type: 'server_error', param: null, code: null } } });

describe('retries on 5xx', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-retry'] });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 2, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'retry', value: 'sk-retry' });
    client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('retries a 500 and a 502, then succeeds', async () => {
    const before = mock.requests.length;
    mock.enqueue(serverError(500));
    mock.enqueue(serverError(502));
    const completion = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'third time lucky' }] });
    expect(completion.choices[0]!.message.content).toBe('third time lucky');
    expect(mock.requests.length - before).toBe(3);
  });

  it('retries a streamed request that failed before streaming', async () => {
    const before = mock.requests.length;
    mock.enqueue(serverError(503));
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'streamed after retry' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed after retry');
    expect(mock.requests.length - before).toBe(2);
  });

  it('gives up after max_retries and relays the last error', async () => {
    const before = mock.requests.length;
    mock.enqueue(serverError(500));
    mock.enqueue(serverError(500));
    mock.enqueue(serverError(503));
    const error = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((error as Error).message).toContain('upstream failure 503');
    // One attempt and two retries: exactly three upstream requests, no more.
    expect(mock.requests.length - before).toBe(3);
  });

  it('does not retry a 400', async () => {
    const before = mock.requests.length;
    mock.enqueue({ status: 400, body: { error: { message: 'bad field', type: 'invalid_request_error', param: 'temperature', code: null } } });
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toContain('bad field');
    expect(mock.requests.length - before).toBe(1);
  });
});

describe('rotation on 429 with a cooldown', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-first', 'sk-second'] });
    tollgate = await startLiveGateway({ random: seededRandom(429) });
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'first', value: 'sk-first' });
    await tollgate.addKey('openai', { name: 'second', value: 'sk-second' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('moves to another key, rests the limited one until its retry-after passed, then answers 429 when all are limited', async () => {
    const rateLimited = (seconds: number) => ({
      status: 429,
      headers: { 'retry-after': String(seconds) },
      body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    });

    // 1. The first key tried is limited for 30 s; the request is served by the other one.
    let before = mock.requests.length;
    mock.enqueue(rateLimited(30));
    const first = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(first.status, first.text).toBe(200);
    const [limited, other] = bearers(mock, before);
    expect(limited).toBeDefined();
    expect(other).toBeDefined();
    expect(other).not.toBe(limited);

    // 2. While it rests, the limited key is skipped, even 29 s later.
    before = mock.requests.length;
    for (let index = 0; index < 10; index += 1) expect((await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'))).status).toBe(200);
    tollgate.clock.now += 29_000;
    for (let index = 0; index < 10; index += 1) expect((await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'))).status).toBe(200);
    expect(new Set(bearers(mock, before))).toEqual(new Set([other]));

    // 3. Once the clock passed its retry-after, the key is used again.
    tollgate.clock.now += 2_000;
    before = mock.requests.length;
    for (let index = 0; index < 30; index += 1) expect((await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'))).status).toBe(200);
    expect(new Set(bearers(mock, before))).toEqual(new Set([limited, other]));

    // 4. Both keys limited: the client gets 429 with the upstream's retry-after.
    before = mock.requests.length;
    mock.enqueue(rateLimited(20));
    mock.enqueue(rateLimited(20));
    const bothLimited = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(bothLimited.status).toBe(429);
    expect(bothLimited.headers.get('retry-after')).toBe('20');
    expect(mock.requests.length - before).toBe(2);

    // 5. While both rest, nothing is sent upstream: a 429 says when the first key is back.
    tollgate.clock.now += 15_000;
    before = mock.requests.length;
    const resting = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(resting.status).toBe(429);
    expect(resting.body.error.code).toBe('all_keys_rate_limited');
    expect(resting.body.error.message).toContain('rate limited');
    expect(resting.headers.get('retry-after')).toBe('5');
    expect(mock.requests.length).toBe(before);

    // 6. And after that, requests flow again.
    tollgate.clock.now += 5_001;
    expect((await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'))).status).toBe(200);
  });
});

describe('a key the upstream refuses (401)', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // The mock accepts only the good key: the revoked one gets OpenAI's real 401.
    mock = await startOpenAIMock({ apiKeys: ['sk-good-0000001'] });
    tollgate = await startLiveGateway({ random: seededRandom(401) });
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, ...immediateRetries } });
    ids.good = await tollgate.addKey('openai', { name: 'good', value: 'sk-good-0000001', weight: 1 });
    ids.revoked = await tollgate.addKey('openai', { name: 'revoked', value: 'sk-revoked-0000002', weight: 1000 });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('marks the key failing, serves with another key, and avoids the failing key afterwards', async () => {
    expect((await getKey(tollgate, 'openai', ids.revoked!)).status).toBe('active');
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(reply.status, reply.text).toBe(200);
    expect(bearers(mock)).toEqual(['sk-revoked-0000002', 'sk-good-0000001']);
    expect(reply.headers.get('x-tollgate-key-id')).toBe(ids.good);

    const revoked = await getKey(tollgate, 'openai', ids.revoked!);
    expect(revoked.status).toMatch(/^failing: upstream answered 401/);
    expect(revoked.status).not.toContain('sk-revoked');
    expect((await getKey(tollgate, 'openai', ids.good!)).status).toBe('active');

    // Weight 1000 no longer matters: a failing key is used only when no healthy one is left.
    const before = mock.requests.length;
    for (let index = 0; index < 10; index += 1) expect((await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'))).status).toBe(200);
    expect(new Set(bearers(mock, before))).toEqual(new Set(['sk-good-0000001']));
  });

  it('answers 401 when the only key left is refused', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { headers: { 'x-tollgate-key-id': ids.revoked! } });
    expect(reply.status).toBe(401);
    expect(reply.text).not.toContain('sk-revoked-0000002');
  });
});

describe('fallbacks', () => {
  let openaiMock: OpenAIMock;
  let groqMock: OpenAIMock;
  let tollgate: LiveGateway;
  let client: OpenAI;
  const fallbackBody = (content: string, extra: Record<string, unknown> = {}) =>
    ({ model: 'openai/gpt-4o', messages: [{ role: 'user', content }], fallbacks: ['groq/llama-3.3-70b-versatile'], ...extra }) as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;

  beforeAll(async () => {
    openaiMock = await startOpenAIMock({ apiKeys: ['sk-primary'] });
    groqMock = await startOpenAIMock({ apiKeys: ['gsk-fallback'], pathPrefix: '/openai' });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: openaiMock.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.configureProvider('groq', { network_config: { base_url: groqMock.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'primary', value: 'sk-primary' });
    await tollgate.addKey('groq', { name: 'fallback', value: 'gsk-fallback' });
    client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([openaiMock.close(), groqMock.close()]);
  });

  it('serves from the primary when it answers, never forwarding the fallbacks field', async () => {
    const { data, response } = await client.chat.completions.create(fallbackBody('primary please')).withResponse();
    expect(data.choices[0]!.message.content).toBe('primary please');
    expect(response.headers.get('x-tollgate-provider')).toBe('openai');
    expect(openaiMock.requests.at(-1)!.body).not.toHaveProperty('fallbacks');
  });

  it('falls back when the primary fails with a 5xx, and says who served', async () => {
    const groqBefore = groqMock.requests.length;
    openaiMock.enqueue(serverError(503));
    const { data, response } = await client.chat.completions.create(fallbackBody('fall back please')).withResponse();
    expect(data.choices[0]!.message.content).toBe('fall back please');
    expect(response.headers.get('x-tollgate-provider')).toBe('groq');
    expect(response.headers.get('x-tollgate-model')).toBe('llama-3.3-70b-versatile');
    expect(groqMock.requests.length - groqBefore).toBe(1);
    const sent = groqMock.requests.at(-1)!.body as Record<string, unknown>;
    expect(sent.model).toBe('llama-3.3-70b-versatile');
    expect(sent).not.toHaveProperty('fallbacks');
  });

  it('falls back for a stream', async () => {
    openaiMock.enqueue(serverError(500));
    const { data: stream, response } = await client.chat.completions
      .create({ ...fallbackBody('streamed fallback'), stream: true } as unknown as OpenAI.ChatCompletionCreateParamsStreaming)
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed fallback');
    expect(response.headers.get('x-tollgate-provider')).toBe('groq');
  });

  it('falls back when every primary key is rate limited', async () => {
    openaiMock.enqueue({ status: 429, headers: { 'retry-after': '10' }, body: { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } } });
    const { response } = await client.chat.completions.create(fallbackBody('limited primary')).withResponse();
    expect(response.headers.get('x-tollgate-provider')).toBe('groq');
    // The primary key now rests; the next request goes straight to the fallback.
    const openaiBefore = openaiMock.requests.length;
    const { response: next } = await client.chat.completions.create(fallbackBody('still resting')).withResponse();
    expect(next.headers.get('x-tollgate-provider')).toBe('groq');
    expect(openaiMock.requests.length).toBe(openaiBefore);
    tollgate.clock.now += 11_000;
  });

  it('does not fall back on a 400 from the primary', async () => {
    const groqBefore = groqMock.requests.length;
    openaiMock.enqueue({ status: 400, body: { error: { message: "Invalid 'messages[0].content'", type: 'invalid_request_error', param: 'messages', code: null } } });
    const error = await client.chat.completions.create(fallbackBody('bad request')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain("Invalid 'messages[0].content'");
    expect(groqMock.requests.length).toBe(groqBefore);
  });

  it('relays the last error when every target failed', async () => {
    openaiMock.enqueue(serverError(502));
    groqMock.enqueue(serverError(503));
    const reply = await post(tollgate, '/v1/chat/completions', fallbackBody('nobody home'));
    expect(reply.status).toBe(503);
    expect(reply.body.extra_fields.provider).toBe('groq');
    // The failure is counted against the target that failed last, provider and model together.
    const metrics = await (await fetch(`${tollgate.url}/metrics`)).text();
    expect(metrics).toMatch(/tollgate_requests_total\{route="chat",provider="groq",model="llama-3.3-70b-versatile",status="503"\} 1/);
    expect(metrics).not.toMatch(/provider="groq",model="gpt-4o"/);
  });

  it('refuses a fallback that cannot be addressed, before sending anything', async () => {
    const before = openaiMock.requests.length;
    const reply = await post(tollgate, '/v1/chat/completions', { ...chatBody('openai/gpt-4o'), fallbacks: ['nosuch/model'] });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('fallbacks.0');
    expect(openaiMock.requests.length).toBe(before);
  });

  it('falls back for the Anthropic SDK on /v1/messages', async () => {
    openaiMock.enqueue(serverError(500));
    const anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
    const { data, response } = await anthropic.messages
      .create({ model: 'openai/gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'claude via fallback' }], fallbacks: ['groq/llama-3.3-70b-versatile'] } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'claude via fallback' });
    expect(response.headers.get('x-tollgate-provider')).toBe('groq');
    expect(groqMock.requests.at(-1)!.body).not.toHaveProperty('fallbacks');
  });
});
