import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Dispatcher, errors as undiciErrors } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancellation } from '../../spec/cancellation.js';
import { releasedBodyBytes } from './dispatch-options.js';
import { createUpstreamAgent, UpstreamClient } from './upstream-client.js';

/** Bytes per write of the endless reply: it never ends, so only a bound stops a reader. */
const chunk = Buffer.alloc(16 * 1024, 0x61);

let server: Server | undefined;
let client: UpstreamClient | undefined;
afterEach(async () => {
  await client?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = client = undefined;
});

/** A server whose `/sized/N` answers N bytes and whose `/endless` answers without end, as a misdirected upstream might. */
async function startServer(): Promise<{ url: string; closedSockets: () => number }> {
  let closed = 0;
  server = createServer((request, response) => {
    request.socket.once('close', () => (closed += 1));
    const status = request.url?.startsWith('/error') ? 500 : 200;
    if (request.url?.endsWith('/endless')) {
      response.writeHead(status, { 'content-type': 'text/plain' });
      const pump = () => {
        while (response.write(chunk));
      };
      response.on('drain', pump);
      pump();
      return;
    }
    const size = Number(request.url?.split('/').pop());
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(Buffer.alloc(size, 0x62));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, closedSockets: () => closed };
}

describe('UpstreamClient: the bound on a reply read whole', () => {
  it('reads a reply at the bound, and refuses one beyond it with a 502 without reading the rest', async () => {
    const { url, closedSockets } = await startServer();
    client = new UpstreamClient(undefined, 100_000);
    const atBound = await client.send({ method: 'GET', url: `${url}/sized/100000`, headers: {} }, { timeoutMs: 5_000 });
    expect(atBound.body.byteLength).toBe(100_000);

    await expect(client.send({ method: 'GET', url: `${url}/sized/100001`, headers: {} }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      status: 502,
      code: 'upstream_response_too_large',
    });
    // An endless reply: without the bound the read would never finish.
    await expect(client.send({ method: 'GET', url: `${url}/endless`, headers: {} }, { timeoutMs: 60_000 })).rejects.toMatchObject({
      status: 502,
      code: 'upstream_response_too_large',
    });
    // The refused replies' connections were closed, not put back in the pool with their bytes unread.
    await expect.poll(closedSockets).toBeGreaterThanOrEqual(1);
    const after = await client.send({ method: 'GET', url: `${url}/sized/10`, headers: {} }, { timeoutMs: 5_000 });
    expect(after.status).toBe(200);
  });

  it("holds a streamed reply's error body to the same bound", async () => {
    const { url } = await startServer();
    client = new UpstreamClient(undefined, 100_000);
    const stream = await client.open({ method: 'GET', url: `${url}/error/endless`, headers: {} }, { timeoutMs: 60_000 });
    expect(stream.status).toBe(500);
    await expect(stream.readAll()).rejects.toMatchObject({ status: 502, code: 'upstream_response_too_large' });
  });
});

describe('UpstreamClient: a request sent detached from its caller', () => {
  /** A server that holds each request's reply until the test answers it, noting connections closed before then. */
  async function startHoldingServer(): Promise<{ url: string; paths: string[]; arrived: () => number; answer: (body: string) => void; closedEarly: () => number }> {
    const held: Array<(body: string) => void> = [];
    const paths: string[] = [];
    let closedEarly = 0;
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      let answered = false;
      response.once('close', () => {
        if (!answered) closedEarly += 1;
      });
      request.resume();
      held.push((body) => {
        answered = true;
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
      paths,
      arrived: () => held.length,
      answer: (body) => held.shift()!(body),
      closedEarly: () => closedEarly,
    };
  }

  it('answers a caller that leaves with a 499 at once, lets the request finish and hands its reply over', async () => {
    const upstream = await startHoldingServer();
    client = new UpstreamClient();
    const caller = new Cancellation();
    const handed: string[] = [];
    const pending = client.sendDetached(
      { method: 'POST', url: `${upstream.url}/create`, headers: {}, body: '{}' },
      { signal: caller, timeoutMs: 5_000, abandoned: async (response) => void handed.push(new TextDecoder().decode(response.body)) },
    );
    await expect.poll(upstream.arrived).toBe(1);
    caller.abort();
    await expect(pending).rejects.toMatchObject({ status: 499, code: 'client_closed_request' });
    expect(handed).toEqual([]);

    upstream.answer('{"id":"p1"}');
    await expect.poll(() => handed).toEqual(['{"id":"p1"}']);
    expect(upstream.closedEarly()).toBe(0);
  });

  it('returns the reply to a caller that stays, handing nothing over', async () => {
    const upstream = await startHoldingServer();
    client = new UpstreamClient();
    const caller = new Cancellation();
    let handed = 0;
    const pending = client.sendDetached(
      { method: 'POST', url: `${upstream.url}/create`, headers: {}, body: '{}' },
      { signal: caller, timeoutMs: 5_000, abandoned: async () => void (handed += 1) },
    );
    await expect.poll(upstream.arrived).toBe(1);
    upstream.answer('{"id":"p2"}');
    expect(new TextDecoder().decode((await pending).body)).toBe('{"id":"p2"}');
    // A leave after the reply changes nothing.
    caller.abort();
    expect(handed).toBe(0);
  });

  it('sends nothing for a caller already gone', async () => {
    const upstream = await startHoldingServer();
    client = new UpstreamClient();
    const caller = new Cancellation();
    caller.abort();
    await expect(
      client.sendDetached({ method: 'POST', url: `${upstream.url}/create`, headers: {} }, { signal: caller, timeoutMs: 5_000, abandoned: async () => undefined }),
    ).rejects.toMatchObject({ status: 499 });
    // A request sent after it arrives alone: the refused one never went out ahead of it.
    const probe = client.send({ method: 'GET', url: `${upstream.url}/probe`, headers: {} }, { timeoutMs: 5_000 });
    await expect.poll(upstream.arrived).toBe(1);
    upstream.answer('{}');
    await probe;
    expect(upstream.paths).toEqual(['/probe']);
  });
});

describe('UpstreamClient: many requests in flight to one origin', () => {
  it('sends every request at once, however many are in flight: no pool queue below the providers\' concurrency settings', async () => {
    // Held, like the long streams of a model: none ends before all have been sent.
    const held: Array<() => void> = [];
    server = createServer((request, response) => {
      request.resume();
      held.push(() => response.end('{}'));
    });
    await new Promise<void>((resolve) => server!.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const agent = createUpstreamAgent();
    client = new UpstreamClient(agent);
    // More than a pool of 512 connections, the cap this agent once had, would hold.
    const inFlight = 600;
    const replies = Array.from({ length: inFlight }, () => client!.send({ method: 'POST', url: `${origin}/v1/chat/completions`, headers: {}, body: '{}' }, { timeoutMs: 60_000 }));
    const queuedInPool = () => ((agent as unknown as { stats: Record<string, { queued: number }> }).stats)[origin]?.queued ?? 0;
    // Every request is either at the upstream or waiting in the pool for a connection; neither count is timed.
    await expect.poll(() => held.length + queuedInPool(), { timeout: 60_000 }).toBe(inFlight);
    expect(queuedInPool()).toBe(0);
    expect(held.length).toBe(inFlight);
    for (const answer of held.splice(0)) answer();
    expect((await Promise.all(replies)).every((reply) => reply.status === 200)).toBe(true);
  });
});

describe("UpstreamClient: a stream's request body", () => {
  /** A server that notes each request's headers and bytes, then opens a stream and holds it open. */
  async function startHoldingServer(): Promise<{ url: string; received: Array<{ headers: Record<string, unknown>; body: Buffer }> }> {
    const received: Array<{ headers: Record<string, unknown>; body: Buffer }> = [];
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (bytes: Buffer) => chunks.push(bytes));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: {}\n\n');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, received };
  }

  it('arrives whole with its content-length, large or small, text or bytes', async () => {
    const { url, received } = await startHoldingServer();
    client = new UpstreamClient(createUpstreamAgent());
    // Multi-byte characters: the declared length must count bytes, not UTF-16 units.
    const large = JSON.stringify({ prompt: 'é€😀 '.repeat(releasedBodyBytes / 4) });
    const bodies: Array<string | Uint8Array> = [large, Buffer.from(large), '{"prompt":"short"}'];
    for (const body of bodies) {
      const stream = await client.open({ method: 'POST', url: `${url}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body }, { timeoutMs: 5_000 });
      expect(stream.status).toBe(200);
      stream.discard();
    }
    expect(received).toHaveLength(bodies.length);
    for (const [index, body] of bodies.entries()) {
      const bytes = Buffer.from(body);
      expect(received[index]!.body.equals(bytes)).toBe(true);
      expect(received[index]!.headers['content-length']).toBe(String(bytes.byteLength));
      expect(received[index]!.headers['transfer-encoding']).toBeUndefined();
      expect(received[index]!.headers['content-type']).toBe('application/json');
    }
  });

  it('is not kept once sent, while the stream it opened stays open', async () => {
    const { url } = await startHoldingServer();
    client = new UpstreamClient(createUpstreamAgent());
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    // Made in a function of its own, so that nothing of the test's holds the body or the request.
    const open = (bytes: number) => {
      const body = new Uint8Array(bytes).fill(0x61);
      return { sent: new WeakRef(body), opening: client!.open({ method: 'POST', url: `${url}/v1/chat/completions`, headers: {}, body }, { timeoutMs: 5_000 }) };
    };
    const large = open(releasedBodyBytes);
    const stream = await large.opening;
    // A WeakRef's target lives at least to the end of the task that made or read it: collect in a later one.
    try {
      await new Promise((resolve) => setImmediate(resolve));
      collect();
      await new Promise((resolve) => setImmediate(resolve));
      collect();
      expect(large.sent.deref()).toBeUndefined();
    } finally {
      stream.discard();
    }
  });
});

describe('UpstreamClient: an abort undici makes on its own', () => {
  /** A dispatcher that ends every request as undici ends one it gives up on: its abort error, no cancellation asked. */
  class GivingUp extends Dispatcher {
    constructor(private readonly message?: string) {
      super();
    }
    override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      queueMicrotask(() => handler.onResponseError?.({} as Dispatcher.DispatchController, new undiciErrors.RequestAbortedError(this.message)));
      return true;
    }
    override async close(): Promise<void> {}
  }
  const request = { method: 'POST' as const, url: 'https://api.example.com/v1/chat/completions', headers: {}, body: '{}' };

  it("is the network's failure, worth another try, not a client's cancel (499), for a reply read whole and for a stream", async () => {
    client = new UpstreamClient(new GivingUp());
    for (const attempt of [client.send(request, { timeoutMs: 1_000, signal: new Cancellation() }), client.open(request, { timeoutMs: 1_000 })]) {
      await expect(attempt).rejects.toMatchObject({ status: 502, code: 'upstream_unreachable', retryable: true, message: expect.stringContaining('UND_ERR_ABORTED') });
    }
  });

  it('names the egress proxy and what it answered when undici says the tunnel was refused', async () => {
    client = new UpstreamClient(new GivingUp('Proxy response (407) !== 200 when HTTP Tunneling'));
    await expect(client.send(request, { timeoutMs: 1_000 })).rejects.toMatchObject({ status: 502, code: 'upstream_proxy_refused', retryable: true, message: expect.stringContaining('(it answered 407)') });
  });

  it("stays the client's cancel when the caller's signal was aborted", async () => {
    const cancellation = new Cancellation();
    client = new UpstreamClient(new GivingUp());
    const sent = client.send(request, { timeoutMs: 1_000, signal: cancellation });
    cancellation.abort();
    await expect(sent).rejects.toMatchObject({ status: 499, code: 'client_closed_request' });
  });
});
