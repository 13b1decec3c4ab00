import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUpstreamAgent, UpstreamClient } from '../core/dispatch/upstream-client.js';
import { BusyPoll } from './busy-poll.js';

/** Lets the event loop run a few turns, so that a chain of immediates gets to look at the clock again. */
async function turns(count = 3): Promise<void> {
  for (let index = 0; index < count; index += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('BusyPoll', () => {
  it('keeps the loop polling until a whole window has passed without traffic', async () => {
    let now = 0;
    const poll = new BusyPoll(100, () => now);
    expect(poll.polling).toBe(false);
    poll.touch();
    expect(poll.polling).toBe(true);
    now = 0.099;
    await turns();
    expect(poll.polling).toBe(true);
    now = 0.1;
    await turns();
    expect(poll.polling).toBe(false);
  });

  it('starts the window again at each sign of traffic', async () => {
    let now = 0;
    const poll = new BusyPoll(100, () => now);
    poll.touch();
    now = 0.08;
    await turns();
    poll.touch();
    now = 0.15;
    await turns();
    expect(poll.polling).toBe(true);
    now = 0.19;
    await turns();
    expect(poll.polling).toBe(false);
    // Traffic after a quiet spell starts it again.
    poll.touch();
    expect(poll.polling).toBe(true);
    now = 1;
    await turns();
    expect(poll.polling).toBe(false);
  });

  it('stops for good when stopped, whatever traffic follows', async () => {
    const now = 0;
    const poll = new BusyPoll(100, () => now);
    poll.touch();
    poll.stop();
    await turns();
    expect(poll.polling).toBe(false);
    poll.touch();
    expect(poll.polling).toBe(false);
  });
});

describe('BusyPoll.upstreamInterceptor', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.url === '/broken') {
          response.socket?.destroy();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain', 'x-part': 'headers' });
        response.write('first part, ');
        setImmediate(() => response.end('second part'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** An upstream client whose agent notes traffic on a poll whose touches are counted. */
  function pollingClient(): { client: UpstreamClient; touches: () => number } {
    const poll = new BusyPoll(50);
    const touch = vi.spyOn(poll, 'touch');
    return { client: new UpstreamClient(createUpstreamAgent().compose(poll.upstreamInterceptor())), touches: () => touch.mock.calls.length };
  }

  it('notes the request leaving and each part of the reply, and hands the reply on whole', async () => {
    const { client, touches } = pollingClient();
    const reply = await client.send({ method: 'POST', url: `${origin}/whole`, headers: {}, body: '{}' }, { timeoutMs: 5_000 });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-part']).toBe('headers');
    expect(Buffer.from(reply.body).toString()).toBe('first part, second part');
    // Sent, headers, at least one part of the body, end.
    expect(touches()).toBeGreaterThanOrEqual(4);
    await client.close();
  });

  it('hands a streamed reply on part by part', async () => {
    const { client, touches } = pollingClient();
    const stream = await client.open({ method: 'POST', url: `${origin}/stream`, headers: {}, body: '{}' }, { timeoutMs: 5_000 });
    let text = '';
    for await (const part of stream.body) text += Buffer.from(part).toString();
    expect(text).toBe('first part, second part');
    expect(touches()).toBeGreaterThanOrEqual(4);
    await client.close();
  });

  it('hands a failed transfer on as the same error it would be without polling', async () => {
    const { client, touches } = pollingClient();
    const plain = new UpstreamClient();
    const request = { method: 'POST', url: `${origin}/broken`, headers: {}, body: '{}' } as const;
    const failure = await client.send(request, { timeoutMs: 5_000 }).catch((error: unknown) => error);
    const plainFailure = await plain.send(request, { timeoutMs: 5_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe((plainFailure as { code?: string }).code);
    expect(touches()).toBeGreaterThanOrEqual(2);
    await client.close();
    await plain.close();
  });
});
