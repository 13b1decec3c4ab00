/**
 * Replicate end to end: both official SDKs through Tollgate to the Replicate mock, which checks the bearer token
 * and prediction inputs and answers with prediction objects, polling and event streams. Replicate language models
 * have no tool calling and Replicate offers no embeddings here: the gateway must say so with a 400 rather than
 * pretend. Keys are made through the management API; replicate_key_config.deployments maps models to deployments.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterRegistry } from '../../src/providers/index.js';
import { createReplicateAdapterWith } from '../../src/providers/replicate/index.js';
import { startReplicateMock, type RecordedRequest, type ReplicateMock } from '../mocks/replicate-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { describeSdkMatrix } from './sdk-matrix.js';

const apiKey = 'replicate-upstream-key-0001';
const model = 'meta/meta-llama-3-8b-instruct';
const version = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';
const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };

let mock: ReplicateMock;
let tollgate: LiveGateway;
const ids: Record<string, string> = {};

const creations = (target: ReplicateMock = mock): RecordedRequest[] => target.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/predictions'));
const openai = (keyName: string) =>
  new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': ids[keyName]! } });

beforeAll(async () => {
  mock = await startReplicateMock({ apiKeys: [apiKey] });
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('replicate', { network_config: { base_url: mock.baseUrl, ...fast } });
  ids.main = await tollgate.addKey('replicate', { name: 'main', value: apiKey });
  ids.deployed = await tollgate.addKey('replicate', { name: 'deployed', value: apiKey, replicate_key_config: { deployments: { 'llama-prod': 'acme/llama-prod' } } });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

describeSdkMatrix('Replicate', {
  gateway: () => tollgate,
  chatModel: `replicate/${model}`,
  get headers() {
    return { 'x-tollgate-key-id': ids.main! };
  },
  replyTo: (prompt) => `Echo: ${prompt}`,
  lastChatBody: () => creations().at(-1)?.body,
  upstreamRequestCount: () => mock.requests.length,
  tools: { kind: 'none' },
  streamUsage: false,
  toolResultsCarryIds: false,
  embeddings: { unsupported: true, model: 'replicate/replicate/all-mpnet-base-v2' },
});

describe('Replicate: predictions on the wire', () => {
  it('creates an official-model prediction with Prefer: wait and the bearer token', async () => {
    const completion = await openai('main').chat.completions.create({
      model: `replicate/${model}`,
      messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'sync' }],
      max_tokens: 64,
    });
    expect(completion.choices[0]?.message.content).toBe('Echo: sync');
    const created = creations().at(-1)!;
    expect(created.path).toBe(`/v1/models/${model}/predictions`);
    expect(created.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(created.headers.prefer).toMatch(/^wait=\d+$/);
    expect(created.body).toEqual({ input: { prompt: 'sync', system_prompt: 'Be terse.', max_tokens: 64, max_new_tokens: 64 } });
  });

  it('streams from the prediction\'s stream URL', async () => {
    const before = mock.requests.length;
    const stream = await openai('main').chat.completions.create({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'live words' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: live words');
    const [create, open] = mock.requests.slice(before);
    expect(create).toMatchObject({ method: 'POST', path: `/v1/models/${model}/predictions`, body: { stream: true, input: { prompt: 'live words' } } });
    expect(open).toMatchObject({ method: 'GET', path: expect.stringMatching(/^\/v1\/streams\/mockpred\d+$/) });
    expect(String(open!.headers.accept)).toContain('text/event-stream');
    expect(open!.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('maps a model to the key\'s deployment', async () => {
    const completion = await openai('deployed').chat.completions.create({ model: 'replicate/llama-prod', messages: [{ role: 'user', content: 'deployed' }] });
    expect(completion.choices[0]?.message.content).toBe('Echo: deployed');
    expect(creations().at(-1)!.path).toBe('/v1/deployments/acme/llama-prod/predictions');

    const stream = await openai('deployed').chat.completions.create({ model: 'replicate/llama-prod', messages: [{ role: 'user', content: 'deployed stream' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: deployed stream');
    expect(creations().at(-1)!.path).toBe('/v1/deployments/acme/llama-prod/predictions');
  });

  it('does not serve an unmapped model from a key with deployments', async () => {
    const before = mock.requests.length;
    const error = await openai('deployed')
      .chat.completions.create({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(mock.requests.length).toBe(before);
  });

  it('creates a version prediction for owner/name:version', async () => {
    await openai('main').chat.completions.create({ model: `replicate/acme/custom:${version}`, messages: [{ role: 'user', content: 'versioned' }] });
    const created = creations().at(-1)!;
    expect(created.path).toBe('/v1/predictions');
    expect(created.body).toMatchObject({ version, input: { prompt: 'versioned' } });
  });
});

describe('Replicate: a prediction still running after Prefer: wait is polled until it succeeds', () => {
  let slowMock: ReplicateMock;
  let gateway: LiveGateway;

  beforeAll(async () => {
    slowMock = await startReplicateMock({ apiKeys: [apiKey], processingPolls: 2 });
    // The adapter's waits between polls are injected, so the test polls without sleeping.
    const adapters = new Map(createAdapterRegistry());
    adapters.set('replicate', createReplicateAdapterWith({ polling: { waitBeforePoll: async () => undefined } }));
    gateway = await startLiveGateway({ adapters });
    await gateway.configureProvider('replicate', { network_config: { base_url: slowMock.baseUrl, ...fast } });
    await gateway.addKey('replicate', { name: 'main', value: apiKey });
  });
  afterAll(async () => {
    await gateway?.dispose();
    await slowMock?.close();
  });

  it('answers once the prediction succeeded, after polling its get URL', async () => {
    const completion = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: `replicate/${model}`,
      messages: [{ role: 'user', content: 'slow one' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Echo: slow one');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    const polls = slowMock.requests.filter((request) => request.method === 'GET');
    // Two polls answer "processing", the third finds it succeeded.
    expect(polls).toHaveLength(3);
    expect(new Set(polls.map((request) => request.path)).size).toBe(1);
    expect(polls.every((request) => request.headers.authorization === `Bearer ${apiKey}`)).toBe(true);
  });
});
