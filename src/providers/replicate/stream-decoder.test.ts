import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replicateContext } from '../../../test/support/replicate-context.js';
import type { ProviderContext, StreamDecoder, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { createReplicateStreamDecoder, type PredictionLookup } from './stream-decoder.js';
import type { ReplicatePrediction } from './wire-types.js';

/** A context whose `send` answers from `replies` in order and records what it was asked. */
function fakeContext(replies: Array<UpstreamResponse | Error> = []): { context: ProviderContext; sent: Array<{ request: UpstreamRequest; signal?: AbortSignal }> } {
  const sent: Array<{ request: UpstreamRequest; signal?: AbortSignal }> = [];
  const context = replicateContext(
    async (request, signal) => {
      sent.push({ request, ...(signal ? { signal } : {}) });
      const reply = replies.shift();
      if (reply === undefined) throw new Error(`unexpected ${request.method} ${request.url}`);
      if (reply instanceof Error) throw reply;
      return reply;
    },
    { key: { value: 'r8_secret' }, requestId: 'req-7' },
  );
  return { context, sent };
}

const { context } = fakeContext();

function decodeAll(decoder: StreamDecoder, bytes: Uint8Array, size: number): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) events.push(...decoder.push(bytes.subarray(start, start + size)));
  events.push(...decoder.finish());
  return events;
}

function fixtureBytes(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

describe('createReplicateStreamDecoder', () => {
  it('maps output events to content deltas and done to a stop chunk, whatever the split', () => {
    const bytes = fixtureBytes('stream-output.sse');
    const whole = decodeAll(createReplicateStreamDecoder(context), bytes, bytes.length);
    for (const size of [1, 3, 17]) expect(decodeAll(createReplicateStreamDecoder(context), bytes, size)).toEqual(whole);
    const chunks = whole.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(chunks).toHaveLength(whole.length);
    expect(chunks.map((chunk) => chunk.choices[0]!.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Once upon' }, { content: ' a time' }, { content: '...' }, {}]);
    expect(chunks.map((chunk) => chunk.choices[0]!.finish_reason)).toEqual([null, null, null, null, 'stop']);
    expect(chunks[0]).toMatchObject({ id: 'chatcmpl-req-7', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'meta/meta-llama-3-8b-instruct' });
  });

  it('keeps multi-line output fragments', () => {
    const bytes = new TextEncoder().encode('event: output\ndata: line one\ndata: line two\n\nevent: done\ndata: {}\n\n');
    const chunks = decodeAll(createReplicateStreamDecoder(context), bytes, 2).flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(chunks[1]!.choices[0]!.delta.content).toBe('line one\nline two');
  });

  it('ends with one error event on an error event, ignoring the done that follows', () => {
    const events = decodeAll(createReplicateStreamDecoder(context), fixtureBytes('stream-error.sse'), 5);
    expect(events.filter((event) => event.kind === 'error')).toEqual([
      { kind: 'error', error: { status: 502, type: 'server_error', code: 'prediction_failed', message: 'Replicate prediction failed: CUDA out of memory' } },
    ]);
    expect(events.at(-1)!.kind).toBe('error');
  });

  it('reports a canceled prediction and a stream without done as errors', () => {
    const canceled = new TextEncoder().encode('event: output\ndata: Hi\n\nevent: done\ndata: {"reason": "canceled"}\n\n');
    expect(decodeAll(createReplicateStreamDecoder(context), canceled, 4).at(-1)).toMatchObject({ kind: 'error', error: { code: 'prediction_canceled' } });
    const cut = new TextEncoder().encode('event: output\ndata: Hi\n\n');
    expect(decodeAll(createReplicateStreamDecoder(context), cut, 4).at(-1)).toMatchObject({ kind: 'error', error: { code: 'upstream_stream_incomplete' } });
  });

  it('has no usage when the stream finishes: the documented done event carries no metrics', () => {
    const decoder = createReplicateStreamDecoder(context);
    const events = decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);
    expect(events.at(-1)).toMatchObject({ kind: 'chunk', chunk: { choices: [{ finish_reason: 'stop' }] } });
    expect(events.some((event) => event.kind === 'chunk' && event.chunk.usage !== undefined)).toBe(false);
    expect(decoder.usage()).toBeUndefined();
  });
});

describe('createReplicateStreamDecoder when the client leaves', () => {
  const prediction = { id: 'p9', status: 'processing', urls: { get: 'https://api.example/v1/predictions/p9', cancel: 'https://api.example/v1/predictions/p9/cancel' } } as unknown as ReplicatePrediction;
  const lookupFor = (): PredictionLookup => ({ prediction, fallbackGetUrl: 'https://api.example/v1/predictions/{id}', headers: { authorization: 'Bearer r8_secret' }, polling: { maxPolls: 1, waitBeforePoll: async () => undefined } });
  const canceled = (): UpstreamResponse => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify({ ...prediction, status: 'canceled' })) });

  it('cancels the prediction when the client leaves before the end of the stream, once and unbound to its signal', async () => {
    const { context: base, sent } = fakeContext([canceled()]);
    const controller = new AbortController();
    const decoder = createReplicateStreamDecoder({ ...base, signal: controller.signal }, lookupFor());
    decoder.push(new TextEncoder().encode('event: output\ndata: Once\n\n'));
    controller.abort(new Error('client went away'));
    await Promise.resolve();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request).toMatchObject({ method: 'POST', url: 'https://api.example/v1/predictions/p9/cancel', headers: { authorization: 'Bearer r8_secret' } });
    expect(sent[0]!.signal?.aborted).toBe(false);
  });

  it('cancels nothing once the stream reached its end', async () => {
    const { context: base, sent } = fakeContext();
    const controller = new AbortController();
    const decoder = createReplicateStreamDecoder({ ...base, signal: controller.signal }, lookupFor());
    decoder.push(new TextEncoder().encode('event: output\ndata: Once\n\nevent: done\ndata: {}\n\n'));
    controller.abort(new Error('request over'));
    await Promise.resolve();
    expect(sent).toHaveLength(0);
  });
});

describe('createReplicateStreamDecoder complete()', () => {
  const created = fixtureJson('prediction-starting.json');
  const succeeded = fixtureJson('prediction-succeeded.json');
  /** Polls wait for nothing, so no test depends on time; the attempts waited for are recorded. */
  const lookupWith = (waits: number[] = []): PredictionLookup => ({
    prediction: created,
    fallbackGetUrl: 'https://api.replicate.com/v1/predictions/{id}',
    headers: { authorization: 'Bearer r8_secret' },
    polling: { maxPolls: 200, waitBeforePoll: async (attempt) => void waits.push(attempt) },
  });

  it('reads the settled prediction\'s metrics and emits them as a usage-only chunk', async () => {
    const { context: fake, sent } = fakeContext([reply(200, succeeded)]);
    const decoder = createReplicateStreamDecoder(fake, lookupWith());
    const streamed = decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);
    const signal = new AbortController().signal;

    const events = await decoder.complete!(signal);

    expect(sent).toEqual([{ request: { method: 'GET', url: created.urls!.get, headers: { authorization: 'Bearer r8_secret' } }, signal }]);
    expect(events).toEqual([
      {
        kind: 'chunk',
        chunk: {
          id: 'chatcmpl-req-7',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'meta/meta-llama-3-8b-instruct',
          choices: [],
          usage: { prompt_tokens: 17, completion_tokens: 18, total_tokens: 35, prompt_tokens_details: { cached_tokens: 0 } },
        },
      },
    ]);
    // Same identity as the streamed chunks, so clients see one completion.
    expect(streamed[0]).toMatchObject({ kind: 'chunk', chunk: { id: 'chatcmpl-req-7', created: 1_700_000_000 } });
    expect(decoder.usage()).toEqual({ inputTokens: 17, outputTokens: 18, cachedInputTokens: 0 });
    // Once only: a second call asks nothing more.
    expect(await decoder.complete!(signal)).toEqual([]);
    expect(sent).toHaveLength(1);
  });

  it('polls a prediction that still reads processing after done, until it settles', async () => {
    const processing = { ...created, status: 'processing' };
    const waits: number[] = [];
    const { context: fake, sent } = fakeContext([reply(200, processing), reply(200, processing), reply(200, succeeded)]);
    const decoder = createReplicateStreamDecoder(fake, lookupWith(waits));
    decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);

    const events = await decoder.complete!();

    expect(sent.map((entry) => `${entry.request.method} ${entry.request.url}`)).toEqual(Array(3).fill(`GET ${created.urls!.get}`));
    expect(waits).toEqual([0, 1]);
    expect(events).toHaveLength(1);
    expect(decoder.usage()).toEqual({ inputTokens: 17, outputTokens: 18, cachedInputTokens: 0 });
  });

  it('gives up on a prediction that never settles after a bounded number of polls, without usage', async () => {
    const processing = { ...created, status: 'processing' };
    const { context: fake, sent } = fakeContext([...Array.from({ length: 6 }, () => reply(200, processing)), reply(200, { ...processing, status: 'canceled' })]);
    const decoder = createReplicateStreamDecoder(fake, lookupWith());
    decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);

    expect(await decoder.complete!()).toEqual([]);
    expect(decoder.usage()).toBeUndefined();
    // The first read and five polls, then the cancel polling ends with.
    expect(sent.map((entry) => entry.request.method)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST']);
    expect(sent.at(-1)!.request.url).toBe(created.urls!.cancel);
  });

  it('stays without usage when the settled prediction reports no metrics', async () => {
    const { metrics: _metrics, ...withoutMetrics } = succeeded;
    const { context: fake } = fakeContext([reply(200, withoutMetrics)]);
    const decoder = createReplicateStreamDecoder(fake, lookupWith());
    decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);

    expect(await decoder.complete!()).toEqual([]);
    expect(decoder.usage()).toBeUndefined();
  });

  it('never throws: a failed send, an error reply or a body that is no prediction leave usage undefined', async () => {
    const failures: Array<UpstreamResponse | Error> = [
      new Error('socket hang up'),
      reply(500, { title: 'Internal server error', status: 500 }),
      { status: 200, headers: {}, body: new TextEncoder().encode('<html>') },
    ];
    for (const failure of failures) {
      const { context: fake, sent } = fakeContext([failure]);
      const decoder = createReplicateStreamDecoder(fake, lookupWith());
      decodeAll(decoder, fixtureBytes('stream-output.sse'), 64);
      expect(await decoder.complete!()).toEqual([]);
      expect(decoder.usage()).toBeUndefined();
      expect(sent).toHaveLength(1);
    }
  });

  it('asks nothing for a stream that ended in an error, has not finished, or has no prediction to read', async () => {
    const failed = fakeContext([reply(200, succeeded)]);
    const errored = createReplicateStreamDecoder(failed.context, lookupWith());
    decodeAll(errored, fixtureBytes('stream-error.sse'), 64);
    expect(await errored.complete!()).toEqual([]);
    expect(failed.sent).toHaveLength(0);

    const early = fakeContext([reply(200, succeeded)]);
    const unfinished = createReplicateStreamDecoder(early.context, lookupWith());
    unfinished.push(fixtureBytes('stream-output.sse'));
    expect(await unfinished.complete!()).toEqual([]);
    expect(early.sent).toHaveLength(0);

    const withoutLookup = createReplicateStreamDecoder(context);
    decodeAll(withoutLookup, fixtureBytes('stream-output.sse'), 64);
    expect(await withoutLookup.complete!()).toEqual([]);
    expect(withoutLookup.usage()).toBeUndefined();
  });
});

function fixtureJson(name: string): ReplicatePrediction {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ReplicatePrediction;
}

function reply(status: number, body: unknown): UpstreamResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body)) };
}
