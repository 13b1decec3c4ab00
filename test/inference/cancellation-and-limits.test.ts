/**
 * What happens when a request cannot finish normally: a provider's queue is full, the client goes away (before
 * or during a stream), the upstream stream breaks or reports an error mid-way, or the upstream does not answer in
 * time. No test waits on a timer: each waits on the event it is about (a request arriving, a disconnect).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startStallingStreamMock, type StallingStreamMock } from '../mocks/stalling-stream-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatBody, immediateRetries, post, whenLogged, whenReceived } from './inference-helpers.js';

/** OpenAI chunks for a streamed reply of the given words (role chunk first, no finish). */
function wordChunks(words: string[]): unknown[] {
  const envelope = { id: 'chatcmpl-midstream', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o' };
  return [
    { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...words.map((word) => ({ ...envelope, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
  ];
}

describe('a full provider queue', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-queue'] });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', {
      network_config: { base_url: mock.baseUrl, ...immediateRetries },
      concurrency_and_buffer_size: { concurrency: 1, buffer_size: 0 },
    });
    await tollgate.addKey('openai', { name: 'queue', value: 'sk-queue' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('answers 429 with a clear message while the one slot is taken, and frees the slot when the holder leaves', async () => {
    const holder = new AbortController();
    mock.enqueue({ hang: true });
    const held = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'hold the slot'), { signal: holder.signal }).catch((error: unknown) => error);
    await whenReceived(mock.requests, 1);

    const refused = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'no room'));
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('provider_queue_full');
    expect(refused.body.error.message).toBe('Provider "openai" is at its concurrency limit (1 in flight, 0 queued); retry shortly');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(mock.requests).toHaveLength(1);

    holder.abort();
    await mock.whenAborted();
    expect(await held).toBeInstanceOf(Error);
  });

  it('queues up to buffer_size and serves the queued request when the slot frees', async () => {
    await tollgate.configureProvider('openai', {
      network_config: { base_url: mock.baseUrl, ...immediateRetries },
      concurrency_and_buffer_size: { concurrency: 1, buffer_size: 1 },
    });
    const start = mock.requests.length;
    const holder = new AbortController();
    mock.enqueue({ hang: true });
    const held = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'holder'), { signal: holder.signal }).catch((error: unknown) => error);
    await whenReceived(mock.requests, start + 1);

    // One of these two waits in the queue and the other finds it full; which one is up to the event loop.
    const second = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'second'));
    const third = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'third'));
    const refused = await Promise.race([second, third]);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('(1 in flight, 1 queued)');
    // The queue is visible before anything is refused: the scrape reads the provider's limiter as it is now.
    const during = await (await fetch(`${tollgate.url}/metrics`)).text();
    expect(during).toContain('tollgate_provider_requests_in_flight{provider="openai"} 1');
    expect(during).toContain('tollgate_provider_requests_queued{provider="openai"} 1');
    expect(during).toContain('tollgate_provider_concurrency_limit{provider="openai"} 1');

    holder.abort();
    await mock.whenAborted();
    const [secondReply, thirdReply] = await Promise.all([second, third]);
    const served = [secondReply, thirdReply].find((reply) => reply.status === 200);
    expect(served?.body.choices[0].message.content).toMatch(/^(second|third)$/);
    expect([secondReply.status, thirdReply.status].sort()).toEqual([200, 429]);
    expect(await held).toBeInstanceOf(Error);
    const after = await (await fetch(`${tollgate.url}/metrics`)).text();
    expect(after).toContain('tollgate_provider_requests_in_flight{provider="openai"} 0');
    expect(after).toContain('tollgate_provider_requests_queued{provider="openai"} 0');
  });
});

describe('a client that leaves while its request waits in the queue', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  /**
   * One entry per read of the key's environment variable. The dispatcher resolves a key right before it asks the
   * provider's limiter for a slot, with no await in between, so once a request's read has returned, that request
   * holds the slot or waits in the queue: the test learns a request is queued without any timing.
   */
  const keyReads: string[] = [];

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-queued'] });
    tollgate = await startLiveGateway({
      readEnvironment: (name) => {
        if (name !== 'QUEUE_TEST_KEY') return undefined;
        keyReads.push(name);
        return 'sk-queued';
      },
    });
    await tollgate.configureProvider('openai', {
      network_config: { base_url: mock.baseUrl, ...immediateRetries },
      concurrency_and_buffer_size: { concurrency: 1, buffer_size: 1 },
    });
    await tollgate.addKey('openai', { name: 'queued', value: 'env.QUEUE_TEST_KEY' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  /** One sample of the Prometheus exposition, by name and labels (0 when absent). */
  async function metricSample(name: string, labels: Record<string, string>): Promise<number> {
    const text = await (await fetch(`${tollgate.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const found = Object.fromEntries([...match[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((entry) => [entry[1], entry[2]]));
      if (Object.entries(labels).every(([label, value]) => found[label] === value)) return Number(match[3]);
    }
    return 0;
  }

  it('counts it as 499 client_closed_request in metrics, the ledger and the log, and frees its place', async () => {
    const reads = keyReads.length;
    const holder = new AbortController();
    mock.enqueue({ hang: true });
    const held = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'holder'), { signal: holder.signal }).catch((error: unknown) => error);
    await whenReceived(mock.requests, 1);

    const labels = { route: 'chat', provider: 'openai', model: 'gpt-4o' };
    const closedBefore = await metricSample('tollgate_requests_total', { ...labels, status: '499' });
    const failedBefore = await metricSample('tollgate_requests_total', { ...labels, status: '502' });

    const leaving = new AbortController();
    const left = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'leaves while queued'), {
      headers: { 'x-request-id': 'queued-then-gone' },
      signal: leaving.signal,
    }).catch((error: unknown) => error);
    await whenReceived(keyReads, reads + 2);
    leaving.abort();
    expect(await left).toMatchObject({ name: 'AbortError' });
    await whenLogged(tollgate.logs, (line) => line.includes('"requestId":"queued-then-gone"'));

    const line = tollgate.logs
      .join('')
      .split('\n')
      .filter((entry) => entry.includes('"requestId":"queued-then-gone"'))
      .map((entry) => JSON.parse(entry) as Record<string, unknown>)
      .find((entry) => entry.msg === 'request');
    expect(line).toMatchObject({ status: 499, provider: 'openai', errorCode: 'client_closed_request' });
    expect(await metricSample('tollgate_requests_total', { ...labels, status: '499' })).toBe(closedBefore + 1);
    expect(await metricSample('tollgate_requests_total', { ...labels, status: '502' })).toBe(failedBefore);
    await tollgate.gateway.flushUsage();
    const rows = await tollgate.database.db.selectFrom('usage_ledger').selectAll().where('request_id', '=', 'queued-then-gone').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 499, error_code: 'client_closed_request', provider_key_id: null });
    // The request never reached the provider.
    expect(mock.requests).toHaveLength(1);

    // Its place in the queue (buffer_size 1) is free again: the next request waits there instead of a 429.
    const next = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'next in line'));
    await whenReceived(keyReads, reads + 3);
    holder.abort();
    await mock.whenAborted();
    const served = await next;
    expect(served.status, served.text).toBe(200);
    expect(served.body.choices[0].message.content).toBe('next in line');
    expect(await held).toBeInstanceOf(Error);
  });
});

describe('a client that goes away', () => {
  let mock: OpenAIMock;
  let stalling: StallingStreamMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-abort'] });
    stalling = await startStallingStreamMock({ words: ['never ', 'finished '] });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'abort', value: 'sk-abort' });
    await tollgate.request({
      method: 'POST',
      url: '/api/providers',
      body: { provider: 'stalling', custom_provider_config: { base_provider_type: 'openai' }, network_config: { base_url: stalling.baseUrl, ...immediateRetries } },
    });
    await tollgate.addKey('stalling', { name: 'stalling', value: 'sk-stall' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([mock.close(), stalling.close()]);
  });

  it('cancels the upstream request of a plain completion', async () => {
    const start = mock.requests.length;
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'), { signal: controller.signal }).catch((error: unknown) => error);
    await whenReceived(mock.requests, start + 1);
    controller.abort();
    await mock.whenAborted();
    expect(await pending).toMatchObject({ name: 'AbortError' });
  });

  it('cancels the upstream request of a stream that has not started', async () => {
    const start = mock.requests.length;
    mock.enqueue({ hang: true });
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const controller = new AbortController();
    const pending = client.chat.completions
      .create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }, { signal: controller.signal })
      .catch((error: unknown) => error);
    await whenReceived(mock.requests, start + 1);
    controller.abort();
    await mock.whenAborted();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it('cancels the upstream stream when the client aborts mid-stream', async () => {
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'stalling/slow-model', messages: [{ role: 'user', content: 'x' }], stream: true },
      { signal: controller.signal },
    );
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      // The stalled upstream sends nothing after its first words: leave once they arrived.
      if (text === 'never finished ') controller.abort();
    }
    expect(text).toBe('never finished ');
    await stalling.whenAborted();
  });
});

describe('an upstream stream that fails mid-way', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-broken'] });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'broken', value: 'sk-broken' });
    client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('reaches the OpenAI SDK as an APIError after the chunks already sent', async () => {
    mock.enqueue({ streamChunks: wordChunks(['partial ', 'answer ', 'lost']), failAfter: 3 });
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(text).toBe('partial answer ');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('The upstream stream ended unexpectedly');
  });

  it('ends the event stream with an error event and no [DONE]', async () => {
    mock.enqueue({ streamChunks: wordChunks(['partial ', 'answer ']), failAfter: 2 });
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'x', { stream: true }));
    expect(reply.status).toBe(200);
    const events = reply.text.split('\n\n').filter((event) => event.startsWith('data: '));
    const last = JSON.parse(events.at(-1)!.slice('data: '.length));
    expect(last.error.code).toBe('upstream_stream_broken');
    expect(last.status_code).toBe(502);
    expect(reply.text).not.toContain('[DONE]');
  });

  it('relays an error the upstream reports inside the stream', async () => {
    mock.enqueue({
      streamChunks: [...wordChunks(['before ']), { error: { message: 'The server had an error while processing your request', type: 'server_error', param: null, code: null } }],
    });
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    const error = await (async () => {
      for await (const _chunk of stream) {
        // Reads until the error.
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('The server had an error while processing your request');
  });

  it('reaches the Anthropic SDK as an error event', async () => {
    mock.enqueue({ streamChunks: wordChunks(['partial ']), failAfter: 2 });
    const anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
    const stream = anthropic.messages.stream({ model: 'openai/gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain('The upstream stream ended unexpectedly');
  });
});

describe('an upstream that does not answer in time', () => {
  let mock: OpenAIMock;
  let stalling: StallingStreamMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-slow'] });
    stalling = await startStallingStreamMock();
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', {
      network_config: { base_url: mock.baseUrl, default_request_timeout_in_seconds: 0.2, max_retries: 0, ...immediateRetries },
    });
    await tollgate.addKey('openai', { name: 'slow', value: 'sk-slow' });
    await tollgate.request({
      method: 'POST',
      url: '/api/providers',
      body: {
        provider: 'stalling',
        custom_provider_config: { base_provider_type: 'openai' },
        network_config: { base_url: stalling.baseUrl, default_request_timeout_in_seconds: 0.2, max_retries: 0, ...immediateRetries },
      },
    });
    await tollgate.addKey('stalling', { name: 'stalling', value: 'sk-stall' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([mock.close(), stalling.close()]);
  });

  it('answers 504 and drops the upstream request', async () => {
    mock.enqueue({ hang: true });
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(reply.status).toBe(504);
    expect(reply.body.error.code).toBe('upstream_timeout');
    expect(reply.body.error.type).toBe('timeout_error');
    await mock.whenAborted();
  });

  it('answers 504 to a stream whose upstream never started', async () => {
    mock.enqueue({ hang: true });
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    await mock.whenAborted();
  });

  it('retries a timeout when retries are allowed', async () => {
    await tollgate.configureProvider('openai', {
      network_config: { base_url: mock.baseUrl, default_request_timeout_in_seconds: 0.2, max_retries: 1, ...immediateRetries },
    });
    const before = mock.requests.length;
    mock.enqueue({ hang: true });
    mock.enqueue({ hang: true });
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o'));
    expect(reply.status).toBe(504);
    expect(mock.requests.length - before).toBe(2);
    mock.enqueue({ hang: true });
    const recovered = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'second attempt answers'));
    expect(recovered.status).toBe(200);
    expect(recovered.body.choices[0].message.content).toBe('second attempt answers');
  });

  it('ends a stream that stalls past the timeout with an error event', async () => {
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'stalling/slow-model', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(text).toBe('first words ');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/ended unexpectedly: The upstream provider did not answer in time/);
    await stalling.whenAborted();
  });
});
