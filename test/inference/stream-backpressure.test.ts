/**
 * A client that stops reading a stream must stop the upstream, not make the gateway hold what the upstream goes on
 * sending, on both streaming routes (the chat route forwards chunks; /v1/messages translates each one). The upstream
 * here writes a stream far larger than every socket buffer on the way can hold (64 MB), waiting for 'drain' whenever
 * its socket is full, and the client reads nothing until the upstream is stuck: a gateway that read on regardless
 * would let the upstream send it all. Then the client reads, and must get every event, in order.
 *
 * "Stuck" is judged without a clock: the upstream's socket is full and stays full while the event loop (shared with
 * the gateway, which runs in this process) turns a hundred times. A gateway that still reads frees that socket within
 * a turn or two; one that applies backpressure never does.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { immediateRetries } from './inference-helpers.js';

const EVENTS = 60_000;
const CONTENT = 'x'.repeat(1_000);
/** More than the socket buffers of two loopback connections and the gateway's own queues hold, with room to spare. */
const BOUND_BYTES = 40 * 1024 * 1024;

function eventText(index: number): string {
  const chunk = { id: 'chatcmpl-big', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o', choices: [{ index: 0, delta: { content: `${index}:${CONTENT}` }, finish_reason: null }] };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** Turns of the event loop (the check phase: after the I/O callbacks that were ready). */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** One stream the upstream is sending. */
interface Flood {
  /** Bytes of events handed to the socket so far. */
  written: number;
  finished: boolean;
  /**
   * Resolves once the upstream's socket is full and no 'drain' came in a hundred turns of the event loop, or once it
   * has sent the whole stream (which a client that reads nothing must not allow).
   */
  stuckOrFinished: Promise<void>;
}

interface FloodingUpstream {
  baseUrl: string;
  /** The stream of the request the upstream received last. */
  latest(): Flood;
  close(): Promise<void>;
}

async function startFloodingUpstream(): Promise<FloodingUpstream> {
  let latest: Flood | undefined;
  const server: Server = createServer((request, response) => {
    request.resume();
    let onStuck: () => void = () => {};
    const flood: Flood = {
      written: 0,
      finished: false,
      stuckOrFinished: new Promise<void>((resolve) => {
        onStuck = resolve;
      }),
    };
    latest = flood;
    request.on('end', () => {
      void (async () => {
        response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
        for (let index = 0; index < EVENTS; index += 1) {
          const text = eventText(index);
          flood.written += Buffer.byteLength(text);
          if (response.write(text)) continue;
          let drained = false;
          const drain = once(response, 'drain').then(() => {
            drained = true;
          });
          await Promise.race([drain, turns(100)]);
          if (!drained) {
            onStuck();
            await drain;
          }
        }
        response.write(`data: ${JSON.stringify({ id: 'chatcmpl-big', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        response.end('data: [DONE]\n\n');
        flood.finished = true;
        onStuck();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    latest: () => latest!,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** A streaming route, what to send it, and how to read the content out of one of its events (undefined: none). */
interface StreamingRoute {
  path: string;
  body: Record<string, unknown>;
  contentOf(event: string): string | undefined;
  /** Whether the event is the stream's last. */
  isLast(event: string): boolean;
}

const routes: StreamingRoute[] = [
  {
    path: '/v1/chat/completions',
    body: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true },
    contentOf(event) {
      if (event === 'data: [DONE]') return undefined;
      const chunk = JSON.parse(event.slice('data: '.length)) as { choices: Array<{ delta: { content?: string } }> };
      return chunk.choices[0]?.delta.content;
    },
    isLast: (event) => event === 'data: [DONE]',
  },
  {
    // The Anthropic SDK's route: each chunk is translated into Messages events on the way (translated-stream.ts).
    path: '/v1/messages',
    body: { model: 'openai/gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'x' }], stream: true },
    contentOf(event) {
      const data = event.split('\n').find((line) => line.startsWith('data: '));
      const parsed = JSON.parse(data!.slice('data: '.length)) as { type: string; delta?: { type: string; text?: string } };
      return parsed.type === 'content_block_delta' && parsed.delta?.type === 'text_delta' ? parsed.delta.text : undefined;
    },
    isLast: (event) => event.startsWith('event: message_stop'),
  },
];

describe('a client that stops reading a stream', () => {
  let upstream: FloodingUpstream;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    upstream = await startFloodingUpstream();
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: upstream.baseUrl, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'flood', value: 'sk-flood' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await upstream.close();
  });

  for (const route of routes) {
    it(`on ${route.path}: holds the upstream back until it reads again, then gets every event in order`, async () => {
      const request = httpRequest(`${tollgate.url}${route.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      });
      request.end(JSON.stringify(route.body));
      const [response] = (await once(request, 'response')) as [IncomingMessage];
      expect(response.statusCode).toBe(200);
      // Nothing is read: what arrives stays in the response's buffer, then in the socket's, which then fill up.
      response.pause();

      const flood = upstream.latest();
      await flood.stuckOrFinished;
      expect(flood.finished).toBe(false);
      expect(flood.written).toBeLessThan(BOUND_BYTES);

      response.setEncoding('utf8');
      let held = '';
      let next = 0;
      let ended = false;
      response.on('data', (text: string) => {
        held += text;
        const events = held.split('\n\n');
        held = events.pop()!;
        for (const event of events) {
          if (route.isLast(event)) ended = true;
          const content = route.contentOf(event);
          if (content === undefined) continue;
          // Each event once, in order: nothing lost or repeated while the upstream was held back.
          expect(content).toBe(`${next}:${CONTENT}`);
          next += 1;
        }
      });
      response.resume();
      await once(response, 'end');
      expect(next).toBe(EVENTS);
      expect(ended).toBe(true);
      expect(flood.finished).toBe(true);
    });
  }
});
