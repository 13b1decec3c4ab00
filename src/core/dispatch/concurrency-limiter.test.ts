import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../spec/errors.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';

describe('ConcurrencyLimiter', () => {
  it('fails a queued request whose client leaves with 499 client_closed_request and gives its place up', async () => {
    const limiter = new ConcurrencyLimiter(1, 1, 'openai');
    const releaseHolder = await limiter.acquire();
    const client = new AbortController();
    const queued = limiter.acquire(client.signal).catch((error: unknown) => error);
    expect(limiter.queued).toBe(1);

    client.abort();
    const error = await queued;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 499, code: 'client_closed_request', type: 'invalid_request_error', provider: 'openai' });
    expect(limiter.queued).toBe(0);

    // The freed place takes the next request, which gets the slot when the holder leaves.
    const next = limiter.acquire();
    expect(limiter.queued).toBe(1);
    releaseHolder();
    const releaseNext = await next;
    expect(limiter.active).toBe(1);
    releaseNext();
    expect(limiter.active).toBe(0);
  });

  it('fails a queued request with 499 whatever reason the signal carries', async () => {
    const limiter = new ConcurrencyLimiter(1, 1, 'groq');
    const releaseHolder = await limiter.acquire();
    const client = new AbortController();
    const queued = limiter.acquire(client.signal).catch((error: unknown) => error);
    client.abort(new Error('socket closed'));
    expect(await queued).toMatchObject({ status: 499, code: 'client_closed_request' });
    releaseHolder();
    expect(limiter.active).toBe(0);
  });

  it('refuses a request whose client already left, taking neither a slot nor a place in the queue', async () => {
    const limiter = new ConcurrencyLimiter(1, 1, 'openai');
    const gone = AbortSignal.abort();
    await expect(limiter.acquire(gone)).rejects.toMatchObject({ status: 499, code: 'client_closed_request' });
    expect(limiter.active).toBe(0);

    const releaseHolder = await limiter.acquire();
    await expect(limiter.acquire(gone)).rejects.toMatchObject({ status: 499, code: 'client_closed_request' });
    expect(limiter.queued).toBe(0);
    releaseHolder();
  });

  it('still answers 429 provider_queue_full when the queue is full', async () => {
    const limiter = new ConcurrencyLimiter(1, 0, 'openai');
    const releaseHolder = await limiter.acquire();
    await expect(limiter.acquire(new AbortController().signal)).rejects.toMatchObject({ status: 429, code: 'provider_queue_full' });
    releaseHolder();
  });
});
