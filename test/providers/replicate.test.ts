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
import type { HttpSend, ProviderAdapter, StreamEvent } from '../../src/spec/provider.js';
import { watchLedger } from '../limits/limit-helpers.js';
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

/**
 * A gateway of its own whose Replicate provider points at `upstream` with one key, `main`; with `adapter`, that adapter
 * serves Replicate instead of the registry's (tests inject polling waits or watch the adapter's calls).
 */
async function replicateGateway(upstream: ReplicateMock, adapter?: ProviderAdapter): Promise<LiveGateway> {
  let adapters: Map<string, ProviderAdapter> | undefined;
  if (adapter !== undefined) {
    adapters = new Map(createAdapterRegistry());
    adapters.set('replicate', adapter);
  }
  const gateway = await startLiveGateway(adapters ? { adapters } : {});
  await gateway.configureProvider('replicate', { network_config: { base_url: upstream.baseUrl, ...fast } });
  await gateway.addKey('replicate', { name: 'main', value: apiKey });
  return gateway;
}

/** An inference API key with a token limit, so that its ledger rows and settlements can be watched. */
async function limitedApiKey(gateway: LiveGateway): Promise<{ id: string; secret: string }> {
  const created = await gateway.request({
    method: 'POST',
    url: '/api/v1/api_keys',
    body: { apiKeyType: 'INFERENCE', consumptionLimit: { tokens: 1_000_000 }, limitPeriod: 'LIFETIME' },
  });
  if (created.status !== 200) throw new Error(`creating an API key failed: ${created.status} ${created.text}`);
  return { id: created.body.data.id as string, secret: created.body.data.apiKey as string };
}

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
    // Replicate's own deadline for the run, past Tollgate's (the default 60 s timeout twice, and a minute).
    expect(created.headers['cancel-after']).toBe('180s');
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
    expect(create!.headers['cancel-after']).toBeUndefined();
    expect(open).toMatchObject({ method: 'GET', path: expect.stringMatching(/^\/v1\/streams\/mockpred\d+$/) });
    expect(String(open!.headers.accept)).toContain('text/event-stream');
    expect(open!.headers.authorization).toBe(`Bearer ${apiKey}`);
    // After the answer, the core reads the prediction for its token counts (the client did not wait for that read).
    await mock.whenRequested(before + 3);
    expect(mock.requests[before + 2]).toMatchObject({ method: 'GET', path: expect.stringMatching(/^\/v1\/predictions\/mockpred\d+$/) });
  });

  it('maps a model to the key\'s deployment', async () => {
    const completion = await openai('deployed').chat.completions.create({ model: 'replicate/llama-prod', messages: [{ role: 'user', content: 'deployed' }] });
    expect(completion.choices[0]?.message.content).toBe('Echo: deployed');
    expect(creations().at(-1)!.path).toBe('/v1/deployments/acme/llama-prod/predictions');

    const before = mock.requests.length;
    const stream = await openai('deployed').chat.completions.create({ model: 'replicate/llama-prod', messages: [{ role: 'user', content: 'deployed stream' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: deployed stream');
    expect(creations().at(-1)!.path).toBe('/v1/deployments/acme/llama-prod/predictions');
    // The read of the prediction's counts that follows the answer, so that no later test counts it as its own.
    await mock.whenRequested(before + 3);
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
    gateway = await replicateGateway(slowMock, createReplicateAdapterWith({ polling: { waitBeforePoll: async () => undefined } }));
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

describe('Replicate: a client that leaves while the prediction runs', () => {
  let runningMock: ReplicateMock;
  let gateway: LiveGateway;
  // The adapter's second wait between polls holds until the test has let the client go.
  let waiting!: () => void;
  const pollWaiting = new Promise<void>((resolve) => (waiting = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    runningMock = await startReplicateMock({ apiKeys: [apiKey], processingPolls: 1_000 });
    const waitBeforePoll = async (attempt: number) => {
      if (attempt < 1) return;
      waiting();
      await released;
    };
    gateway = await replicateGateway(runningMock, createReplicateAdapterWith({ polling: { waitBeforePoll } }));
  });
  afterAll(async () => {
    await gateway?.dispose();
    await runningMock?.close();
  });

  it('cancels the prediction at Replicate, so that the run is not billed to its end', async () => {
    const client = new AbortController();
    const request = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${testAdminKey}` },
      body: JSON.stringify({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'left early' }] }),
      signal: client.signal,
    }).catch((error: unknown) => error);
    await pollWaiting;
    client.abort();
    expect(await request).toBeInstanceOf(Error);
    release();
    const cancels = () => runningMock.requests.filter((recorded) => recorded.method === 'POST' && recorded.path.endsWith('/cancel'));
    // The cancellation follows the abort at once; the generous wait only bounds a failure.
    await expect.poll(() => cancels().length, { timeout: 10_000 }).toBe(1);
    expect(cancels()[0]!.headers.authorization).toBe(`Bearer ${apiKey}`);
  });
});

describe('Replicate: a client that leaves while the prediction is being created', () => {
  // Replicate creates a prediction as soon as it accepts the create call, and closing that call does not stop it: only
  // the call's reply names the prediction. The mock holds that reply until the test has let the client go and seen
  // Tollgate answer it (its ledger row), then answers. The adapter is wrapped so that the test learns when Tollgate
  // has dealt with the late reply, which is what lets it say that no cancellation went out.
  let creatingMock: ReplicateMock;
  let gateway: LiveGateway;
  let inferenceKey: string;
  let lateRepliesHandled = 0;
  const cancelsSent: string[] = [];

  beforeAll(async () => {
    // Runs that never finish on their own: a create reply says `starting` unless the test lets the run finish.
    creatingMock = await startReplicateMock({ apiKeys: [apiKey], processingPolls: 1_000 });
    const replicate = createReplicateAdapterWith({ polling: { waitBeforePoll: async () => undefined } });
    const watched: ProviderAdapter = {
      ...replicate,
      chat: {
        ...replicate.chat,
        // Non-streamed: the core hands the late reply to the adapter's hook; the test notes when it is done.
        async abandonedReply(response, context) {
          await replicate.chat.abandonedReply?.(response, context);
          lateRepliesHandled += 1;
        },
        // Streamed: the adapter makes the create call itself; its sends are watched for the create's reply and a cancel.
        buildRequest(request, context, options) {
          if (!options.stream) return replicate.chat.buildRequest(request, context, options);
          const send: HttpSend = (upstream, signal) => {
            if (upstream.url.endsWith('/cancel')) cancelsSent.push(upstream.url);
            const sent = context.send(upstream, signal);
            // Whatever the adapter does with the reply starts in the promise jobs it triggers, all run before this.
            if (upstream.url.endsWith('/predictions')) sent.then(() => setImmediate(() => (lateRepliesHandled += 1)), () => undefined);
            return sent;
          };
          return replicate.chat.buildRequest(request, { ...context, send }, options);
        },
      },
    };
    gateway = await replicateGateway(creatingMock, watched);
    inferenceKey = (await limitedApiKey(gateway)).secret;
  });
  afterAll(async () => {
    await gateway?.dispose();
    await creatingMock?.close();
  });

  const cancelsOf = (id: string) => creatingMock.requests.filter((recorded) => recorded.method === 'POST' && recorded.path === `/v1/predictions/${id}/cancel`);

  /**
   * Sends a chat request, lets its client go while the create call is held, waits for Tollgate's 499 to be settled,
   * then lets the mock answer the create call (`finished`: with the run already succeeded). Returns the prediction's id.
   */
  async function leaveDuringCreation(stream: boolean, finished: boolean): Promise<string> {
    const ledger = watchLedger(gateway.gateway);
    const rowsBefore = ledger.rows.length;
    const requestsBefore = creatingMock.requests.length;
    const hold = creatingMock.holdCreations();
    const client = new AbortController();
    try {
      const answer = fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${inferenceKey}` },
        body: JSON.stringify({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'gone before the reply' }], stream }),
        signal: client.signal,
      }).catch((error: unknown) => error);
      await creatingMock.whenRequested(requestsBefore + 1);
      expect(creatingMock.requests[requestsBefore]).toMatchObject({ method: 'POST', path: `/v1/models/${model}/predictions` });
      client.abort();
      expect(await answer).toBeInstanceOf(Error);
      // Tollgate answered the client that left without waiting for the create call.
      await ledger.whenRows(rowsBefore + 1);
      expect(ledger.rows[rowsBefore]).toMatchObject({ provider: 'replicate', stream: stream ? 1 : 0, status: 499, error_code: 'client_closed_request' });
      expect(hold.held()).toHaveLength(1);
      return hold.held()[0]!;
    } finally {
      hold.release({ finished });
    }
  }

  it('cancels the prediction a non-streamed create call made once its reply arrives, with the key\'s token', async () => {
    const id = await leaveDuringCreation(false, false);
    // The cancellation follows the late reply at once; the generous wait only bounds a failure.
    await expect.poll(() => cancelsOf(id).length, { timeout: 10_000 }).toBe(1);
    expect(cancelsOf(id)[0]!.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('cancels the prediction a streamed create call made once its reply arrives, with the key\'s token', async () => {
    const id = await leaveDuringCreation(true, false);
    await expect.poll(() => cancelsOf(id).length, { timeout: 10_000 }).toBe(1);
    expect(cancelsOf(id)[0]!.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('does not cancel a non-streamed prediction whose create reply says it has already succeeded', async () => {
    const handled = lateRepliesHandled;
    const id = await leaveDuringCreation(false, true);
    await expect.poll(() => lateRepliesHandled, { timeout: 10_000 }).toBe(handled + 1);
    expect(cancelsOf(id)).toEqual([]);
  });

  it('does not cancel a streamed prediction whose create reply says it has already succeeded', async () => {
    const handled = lateRepliesHandled;
    const sent = cancelsSent.length;
    const id = await leaveDuringCreation(true, true);
    await expect.poll(() => lateRepliesHandled, { timeout: 10_000 }).toBe(handled + 1);
    expect(cancelsSent.slice(sent)).toEqual([]);
    expect(cancelsOf(id)).toEqual([]);
  });
});

describe('Replicate: usage in the ledger', () => {
  // A gateway of its own, with one provider key and an inference key whose token limit makes Tollgate reserve a
  // worst case: a reply without usage is charged that reservation, which is what usage_missing marks.
  let usageMock: ReplicateMock;
  let gateway: LiveGateway;
  let apiKeyId: string;
  let client: OpenAI;

  beforeAll(async () => {
    usageMock = await startReplicateMock({ apiKeys: [apiKey] });
    gateway = await replicateGateway(usageMock);
    const limited = await limitedApiKey(gateway);
    apiKeyId = limited.id;
    client = new OpenAI({ apiKey: limited.secret, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.dispose();
    await usageMock?.close();
  });

  /** The inference key's ledger rows; a request is settled before its reply ends, so none is still pending. */
  const ledgerRows = async () => {
    await gateway.gateway.flushUsage();
    return gateway.database.db.selectFrom('usage_ledger').selectAll().where('api_key_id', '=', apiKeyId).orderBy('created_at').execute();
  };

  it('records a non-streamed reply with the token counts of the prediction\'s metrics', async () => {
    const before = (await ledgerRows()).length;
    const completion = await client.chat.completions.create({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'count my words' }], max_tokens: 32 });
    const rows = (await ledgerRows()).slice(before);
    expect(rows).toHaveLength(1);
    // The mock counts the prompt's words (3) and the reply's fragments ("Echo:", " count", " my", " words").
    expect(rows[0]).toMatchObject({ provider: 'replicate', stream: 0, status: 200, usage_missing: 0, input_tokens: 3, output_tokens: 4 });
    expect(completion.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4 });
  });

  /** Streams a reply that asked for usage: its text and the usage chunk, if one came. */
  const streamWithUsage = async (): Promise<{ text: string; reportedUsage: unknown }> => {
    const stream = await client.chat.completions.create({
      model: `replicate/${model}`,
      messages: [{ role: 'user', content: 'count my words' }],
      max_tokens: 32,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let reportedUsage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) reportedUsage = chunk.usage;
    }
    return { text, reportedUsage };
  };

  it('records a streamed reply with the counts of a GET of the prediction after done, and reports them to a client that asked', async () => {
    const before = (await ledgerRows()).length;
    const requestsBefore = usageMock.requests.length;
    const { text, reportedUsage } = await streamWithUsage();
    expect(text).toBe('Echo: count my words');
    expect(reportedUsage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });

    const rows = (await ledgerRows()).slice(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'replicate', stream: 1, status: 200, usage_missing: 0, error_code: null, input_tokens: 3, output_tokens: 4 });

    // Create, open the stream, then one read of the prediction the stream belongs to.
    const opened = usageMock.requests.slice(requestsBefore);
    expect(opened.map((request) => request.method)).toEqual(['POST', 'GET', 'GET']);
    const predictionId = /^\/v1\/streams\/(.+)$/.exec(opened[1]!.path)![1]!;
    expect(opened[2]).toMatchObject({ path: `/v1/predictions/${predictionId}`, headers: { authorization: `Bearer ${apiKey}` } });
  });

  it('sends no usage chunk to a streaming client that did not ask, yet records the counts', async () => {
    const before = (await ledgerRows()).length;
    const ledger = watchLedger(gateway.gateway);
    const appended = ledger.rows.length;
    const stream = await client.chat.completions.create({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'count my words' }], max_tokens: 32, stream: true });
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.usage ?? undefined).toBeUndefined();
      expect(chunk.choices).toHaveLength(1);
    }
    expect(chunks).toBeGreaterThan(1);
    // The answer ended before the read of the counts; the row follows that read.
    await ledger.whenRows(appended + 1);
    const rows = (await ledgerRows()).slice(before);
    expect(rows).toEqual([expect.objectContaining({ stream: 1, status: 200, usage_missing: 0, input_tokens: 3, output_tokens: 4 })]);
  });

  it('ends a stream whose client did not ask for usage without waiting for the follow-up read, then records its counts', async () => {
    const ledger = watchLedger(gateway.gateway);
    const rowsBefore = ledger.rows.length;
    const requestsBefore = usageMock.requests.length;
    const hold = usageMock.holdPredictionReads();
    try {
      const stream = await client.chat.completions.create({ model: `replicate/${model}`, messages: [{ role: 'user', content: 'count my words' }], max_tokens: 32, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      // The whole answer, [DONE] included, while the read of the prediction's counts is still unanswered.
      expect(text).toBe('Echo: count my words');
      await usageMock.whenRequested(requestsBefore + 3);
      expect(hold.held()).toBe(1);
      expect(ledger.rows.length).toBe(rowsBefore);
    } finally {
      hold.release();
    }
    await ledger.whenRows(rowsBefore + 1);
    expect(ledger.rows[rowsBefore]).toMatchObject({ provider: 'replicate', stream: 1, status: 200, usage_missing: 0, input_tokens: 3, output_tokens: 4 });
  });

  it('still settles a streamed reply as usage_missing when the settled prediction reports no metrics', async () => {
    const before = (await ledgerRows()).length;
    const requestsBefore = usageMock.requests.length;
    usageMock.withholdMetrics(true);
    try {
      const { text, reportedUsage } = await streamWithUsage();
      expect(text).toBe('Echo: count my words');
      expect(reportedUsage).toBeUndefined();
    } finally {
      usageMock.withholdMetrics(false);
    }
    const rows = (await ledgerRows()).slice(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'replicate', stream: 1, status: 200, usage_missing: 1, error_code: null });
    // Charged the reservation's worst case, which bounds far more than the 3 + 4 tokens the prediction used.
    expect(rows[0]!.input_tokens + rows[0]!.output_tokens).toBeGreaterThan(7);
    expect(usageMock.requests.slice(requestsBefore).map((request) => request.method)).toEqual(['POST', 'GET', 'GET']);
  });
});

describe('Replicate: what the core does with the follow-up read', () => {
  // The adapter's decoders are wrapped so that their complete() can be made to fail in the two ways the seam allows
  // for: a rejection (which a decoder must not produce, but the core survives) and an error event.
  let followUpMock: ReplicateMock;
  let gateway: LiveGateway;
  let followUp: 'reject' | 'error-event' = 'reject';

  beforeAll(async () => {
    followUpMock = await startReplicateMock({ apiKeys: [apiKey] });
    const replicate = createReplicateAdapterWith({ polling: { waitBeforePoll: async () => undefined } });
    const wrapped = {
      ...replicate,
      chat: {
        ...replicate.chat,
        createStreamDecoder: (context: Parameters<typeof replicate.chat.createStreamDecoder>[0]) => {
          const decoder = replicate.chat.createStreamDecoder(context);
          return {
            push: (data: Uint8Array) => decoder.push(data),
            finish: () => decoder.finish(),
            usage: () => decoder.usage(),
            complete: async (): Promise<StreamEvent[]> => {
              if (followUp === 'reject') throw new Error('the follow-up read broke');
              return [{ kind: 'error', error: { status: 502, type: 'server_error', code: 'prediction_failed', message: `late failure for ${apiKey}` } }];
            },
          };
        },
      },
    };
    gateway = await replicateGateway(followUpMock, wrapped);
  });
  afterAll(async () => {
    await gateway?.dispose();
    await followUpMock?.close();
  });

  const ledgerRows = async () => {
    await gateway.gateway.flushUsage();
    return gateway.database.db.selectFrom('usage_ledger').selectAll().execute();
  };
  /** The rows written since `before`, found by id so that rows sharing a timestamp cannot be confused. */
  const newRows = async (before: Array<{ id: unknown }>) => {
    const known = new Set(before.map((row) => row.id));
    return (await ledgerRows()).filter((row) => !known.has(row.id));
  };

  const streamText = async () => {
    const stream = await new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: `replicate/${model}`,
      messages: [{ role: 'user', content: 'follow up' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return text;
  };

  it('ends the stream normally when complete() rejects, with usage left unknown', async () => {
    followUp = 'reject';
    const before = await ledgerRows();
    expect(await streamText()).toBe('Echo: follow up');
    expect(await newRows(before)).toEqual([expect.objectContaining({ provider: 'replicate', stream: 1, status: 200, usage_missing: 1, error_code: null })]);
  });

  it('relays an error event from complete() with the key redacted', async () => {
    followUp = 'error-event';
    const before = await ledgerRows();
    const error = await streamText().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const text = JSON.stringify((error as InstanceType<typeof OpenAI.APIError>).error);
    expect(text).toContain('late failure for');
    expect(text).not.toContain(apiKey);
    expect(await newRows(before)).toEqual([expect.objectContaining({ provider: 'replicate', stream: 1, status: 502, error_code: 'prediction_failed' })]);
  });
});
