import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replicateContext } from '../../../test/support/replicate-context.js';
import type { HttpSend, ProviderContext, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { DETACHED_SIGNAL } from '../../spec/until-aborted.js';
import { cancelAbandoned, predictionToCancel, sendCreation } from './abandoned-creation.js';
import type { ReplicatePrediction } from './wire-types.js';

const starting = JSON.parse(readFileSync(new URL('./fixtures/prediction-starting.json', import.meta.url), 'utf8')) as ReplicatePrediction;
const headers = { authorization: 'Bearer r8_key' };

function reply(body: unknown, status = 201): UpstreamResponse {
  return { status, headers: {}, body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)) };
}

/** A send that records each call with its signal, answering the create call when the test says so and the rest at once. */
function recordingSend(): { send: HttpSend; calls: Array<{ request: UpstreamRequest; signal?: AbortSignal }>; answerCreate(response: UpstreamResponse): void } {
  const calls: Array<{ request: UpstreamRequest; signal?: AbortSignal }> = [];
  let answerCreate!: (response: UpstreamResponse) => void;
  const created = new Promise<UpstreamResponse>((resolve) => (answerCreate = resolve));
  const send: HttpSend = (request, signal) => {
    calls.push({ request, signal });
    return request.url.endsWith('/cancel') ? Promise.resolve(reply({ ...starting, status: 'canceled' }, 200)) : created;
  };
  return { send, calls, answerCreate };
}

function contextWith(send: HttpSend, signal?: AbortSignal): ProviderContext {
  return replicateContext(send, { now: () => 0, ...(signal !== undefined ? { signal } : {}) });
}

const create: UpstreamRequest = { method: 'POST', url: 'https://api.replicate.com/v1/models/meta/meta-llama-3-8b-instruct/predictions', headers, body: '{}' };

describe('predictionToCancel', () => {
  it('names a prediction that is still starting or processing', () => {
    expect(predictionToCancel(reply(starting))?.id).toBe('gm3qorzdhgbfurvjtvhg6dckhu');
    expect(predictionToCancel(reply({ ...starting, status: 'processing' }))?.id).toBe('gm3qorzdhgbfurvjtvhg6dckhu');
  });

  it('names none that has already ended', () => {
    for (const status of ['succeeded', 'failed', 'canceled', 'aborted']) expect(predictionToCancel(reply({ ...starting, status }))).toBeUndefined();
  });

  it('names none for an error reply or a body that is not a prediction', () => {
    expect(predictionToCancel(reply({ title: 'Unauthenticated', status: 401 }, 401))).toBeUndefined();
    expect(predictionToCancel(reply(starting, 500))).toBeUndefined();
    expect(predictionToCancel(reply('<html>bad gateway</html>'))).toBeUndefined();
    expect(predictionToCancel(reply({ id: 'p1' }))).toBeUndefined();
  });
});

describe('cancelAbandoned', () => {
  it('posts to the prediction\'s cancel URL detached from the request\'s signal', async () => {
    const { send, calls } = recordingSend();
    await cancelAbandoned(reply(starting), contextWith(send), headers);
    expect(calls).toEqual([{ request: { method: 'POST', url: starting.urls!.cancel, headers }, signal: DETACHED_SIGNAL }]);
  });

  it('sends nothing for a prediction that has already succeeded', async () => {
    const { send, calls } = recordingSend();
    await cancelAbandoned(reply({ ...starting, status: 'succeeded' }), contextWith(send), headers);
    expect(calls).toEqual([]);
  });
});

describe('sendCreation', () => {
  it('sends the create call detached and returns its reply to a client that stays', async () => {
    const { send, calls, answerCreate } = recordingSend();
    const pending = sendCreation(contextWith(send, new AbortController().signal), create, headers);
    answerCreate(reply(starting));
    expect((await pending).status).toBe(201);
    expect(calls).toEqual([{ request: create, signal: DETACHED_SIGNAL }]);
  });

  it('answers a client that leaves with a 499 at once, then cancels the prediction the late reply names', async () => {
    const { send, calls, answerCreate } = recordingSend();
    const client = new AbortController();
    const pending = sendCreation(contextWith(send, client.signal), create, headers);
    client.abort();
    await expect(pending).rejects.toMatchObject({ status: 499, code: 'client_closed_request' });
    expect(calls).toHaveLength(1);

    answerCreate(reply(starting));
    await expect.poll(() => calls.length).toBe(2);
    expect(calls[1]).toEqual({ request: { method: 'POST', url: starting.urls!.cancel, headers }, signal: DETACHED_SIGNAL });
  });

  it('sends nothing for a client already gone', async () => {
    const { send, calls } = recordingSend();
    const client = new AbortController();
    client.abort();
    await expect(sendCreation(contextWith(send, client.signal), create, headers)).rejects.toMatchObject({ status: 499 });
    expect(calls).toEqual([]);
  });
});
