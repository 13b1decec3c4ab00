/**
 * A stream can stay open for minutes, and a gateway holds many at once: what each keeps in memory meanwhile is what
 * its prompt costs the gateway. Once the upstream has the request, nothing reads the client's body again, so no open
 * stream may keep a copy of it (its text, its parsed strings, the upstream body built from it).
 *
 * Checked in this process (the gateway runs in it) while the stream is open: the prompt is a run of a random marker
 * that exists nowhere else, and a heap snapshot, taken after a full collection, must not hold it in any string; nor
 * may the memory of array buffers (the body's bytes, the upstream body built from them) have grown by anything like
 * the prompt's size. The client sends the prompt as bytes it lets go of once sent (no string of it, no buffer held on
 * the client's side) and the upstream discards what it reads.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { getHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { immediateRetries } from './inference-helpers.js';

/**
 * An upstream that sends a stream's first content at once and the rest only when released, in the format its path
 * asks for: OpenAI chat chunks, Anthropic Messages events, or OpenAI Responses events.
 */
interface HeldUpstream {
  baseUrl: string;
  /** The path of each request received, in order. */
  paths: string[];
  /** Ends the stream that is open (its last events). */
  finish(): void;
  close(): Promise<void>;
}

/** One server-sent event: named, or data alone. */
function sse(data: unknown, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** A stream's first events and its last ones, for each upstream path. */
function heldStream(path: string | undefined): { first: string; last: string } {
  if (path === '/v1/messages') {
    const message = { id: 'msg_held', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 0 } };
    return {
      first:
        sse({ type: 'message_start', message }, 'message_start') +
        sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start') +
        sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }, 'content_block_delta'),
      last:
        sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop') +
        sse({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } }, 'message_delta') +
        sse({ type: 'message_stop' }, 'message_stop'),
    };
  }
  if (path === '/v1/responses') {
    const response = (status: string, output: unknown[], usage: unknown) => ({ id: 'resp_held', object: 'response', created_at: 1_700_000_000, status, error: null, model: 'gpt-4o-2024-08-06', output, usage });
    const text = (value: string) => ({ type: 'output_text', text: value, annotations: [] });
    const item = { id: 'msg_held', type: 'message', role: 'assistant', status: 'completed', content: [text('Hello')] };
    const at = { item_id: 'msg_held', output_index: 0, content_index: 0 };
    const events = [
      { type: 'response.created', response: response('in_progress', [], null) },
      { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
      { type: 'response.content_part.added', ...at, part: text('') },
      { type: 'response.output_text.delta', ...at, delta: 'Hello' },
      { type: 'response.output_text.done', ...at, text: 'Hello' },
      { type: 'response.content_part.done', ...at, part: text('Hello') },
      { type: 'response.output_item.done', output_index: 0, item },
      { type: 'response.completed', response: response('completed', [item], { input_tokens: 9, output_tokens: 1, total_tokens: 10 }) },
    ].map((event, index) => sse({ ...event, sequence_number: index }, event.type));
    return { first: events.slice(0, 4).join(''), last: events.slice(4).join('') };
  }
  const envelope = { id: 'chatcmpl-held', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o' };
  return {
    first: sse({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }], usage: null }),
    last:
      sse({ ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }) +
      sse({ ...envelope, choices: [], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } }) +
      'data: [DONE]\n\n',
  };
}

async function startHeldUpstream(): Promise<HeldUpstream> {
  let open: { response: ServerResponse; last: string } | undefined;
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? '');
    request.resume();
    request.on('end', () => {
      const { first, last } = heldStream(request.url);
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      response.write(first);
      open = { response, last };
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    paths,
    finish() {
      const held = open!;
      open = undefined;
      held.response.end(held.last);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Whether any string in this process's heap contains `needle` (given as bytes, so that the search holds no string of it). */
async function heapHolds(needle: Buffer): Promise<boolean> {
  // The snapshot is JSON text in which every string of the heap appears (escaped; the marker needs no escaping).
  const snapshot = getHeapSnapshot();
  let carried = Buffer.alloc(0);
  let found = false;
  for await (const chunk of snapshot) {
    const bytes = Buffer.concat([carried, typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)]);
    if (bytes.includes(needle)) found = true;
    carried = bytes.subarray(Math.max(0, bytes.length - needle.length + 1));
  }
  return found;
}

// V8's collector, callable from here: buffers are freed only when a collection finds them unreachable.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** The bytes of every array buffer alive in this process, after full collections (the second frees what the first found). */
function arrayBufferBytes(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().arrayBuffers;
}

/** A request body that undici sends and lets go of: one chunk, dropped once taken. */
function sentOnce(bytes: Buffer): AsyncIterable<Buffer> {
  const holder: { bytes: Buffer | undefined } = { bytes };
  return {
    async *[Symbol.asyncIterator]() {
      const taken = holder.bytes;
      holder.bytes = undefined;
      if (taken !== undefined) yield taken;
    },
  };
}

describe('an open stream keeps no copy of the client’s prompt', () => {
  let upstream: HeldUpstream;
  let tollgate: LiveGateway;
  // Random hex, built at run time: no literal of it sits in the test's compiled code.
  const marker = randomBytes(16).toString('hex');
  /** Two markers in a row: the prompt's text is a long run of them, nothing else in the process spells this. */
  const needle = Buffer.concat([Buffer.from(marker), Buffer.from(marker)]);

  /** The prompt's size: far above what else a request's array buffers hold (socket reads, pooled slabs). */
  const promptBytes = 2 * 1024 * 1024;

  /** A request body as bytes whose prompt is 2 MB of the marker. */
  function bodyBytes(fields: Record<string, unknown>, promptAt: (prompt: string) => Record<string, unknown>): Buffer {
    return Buffer.from(JSON.stringify({ ...fields, ...promptAt(marker.repeat(promptBytes / marker.length)) }));
  }

  /**
   * The array buffers' bytes before the first case: each case is measured against it, so that what one case left
   * behind (a request kept after its end) fails the next one too.
   */
  let buffersAtStart: number;

  beforeAll(async () => {
    upstream = await startHeldUpstream();
    tollgate = await startLiveGateway();
    for (const provider of ['openai', 'groq', 'anthropic']) {
      await tollgate.configureProvider(provider, { network_config: { base_url: upstream.baseUrl, max_retries: 0, ...immediateRetries } });
      await tollgate.addKey(provider, { name: `${provider}-held`, value: `sk-${provider}-held` });
    }
    buffersAtStart = arrayBufferBytes();
  });
  afterAll(async () => {
    await tollgate.dispose();
    await upstream.close();
  });

  const cases: Array<{ route: string; label?: string; body: () => Buffer; headers?: Record<string, string>; upstreamPath: string; firstEvent: string; lastEvent: string }> = [
    {
      route: '/v1/chat/completions',
      body: () => bodyBytes({ model: 'openai/gpt-4o', stream: true }, (prompt) => ({ messages: [{ role: 'user', content: prompt }] })),
      upstreamPath: '/v1/chat/completions',
      firstEvent: '"content":"Hello"',
      lastEvent: 'data: [DONE]',
    },
    {
      route: '/v1/messages',
      body: () => bodyBytes({ model: 'openai/gpt-4o', max_tokens: 64, stream: true }, (prompt) => ({ system: prompt, messages: [{ role: 'user', content: 'Hi' }] })),
      headers: { 'anthropic-version': '2023-06-01' },
      upstreamPath: '/v1/chat/completions',
      firstEvent: '"text":"Hello"',
      lastEvent: 'event: message_stop',
    },
    {
      route: '/v1/responses',
      body: () => bodyBytes({ model: 'groq/llama-3.3-70b-versatile', stream: true }, (prompt) => ({ instructions: 'Be brief.', input: prompt })),
      upstreamPath: '/v1/chat/completions',
      firstEvent: '"delta":"Hello"',
      lastEvent: 'event: response.completed',
    },
    {
      route: '/v1/messages',
      label: 'natively to Anthropic',
      body: () => bodyBytes({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, stream: true }, (prompt) => ({ system: prompt, messages: [{ role: 'user', content: 'Hi' }] })),
      headers: { 'anthropic-version': '2023-06-01' },
      upstreamPath: '/v1/messages',
      firstEvent: '"text":"Hello"',
      lastEvent: 'event: message_stop',
    },
    {
      route: '/v1/responses',
      label: 'natively to OpenAI',
      body: () => bodyBytes({ model: 'openai/gpt-4o', stream: true }, (prompt) => ({ instructions: 'Be brief.', input: prompt })),
      upstreamPath: '/v1/responses',
      firstEvent: '"delta":"Hello"',
      lastEvent: 'event: response.completed',
    },
  ];

  for (const { route, label, body, headers, upstreamPath, firstEvent, lastEvent } of cases) {
    it(`on ${route}${label === undefined ? '' : `, ${label}`}, while the stream is open`, async () => {
      const response = await undiciRequest(`${tollgate.url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json', ...headers },
        body: Readable.from(sentOnce(body()), { objectMode: false }),
      });
      expect(response.statusCode).toBe(200);
      const reader = response.body[Symbol.asyncIterator]();
      let received = '';
      while (!received.includes(firstEvent)) {
        const next = await reader.next();
        if (next.done) throw new Error(`the stream ended before its first content: ${received}`);
        received += String(next.value);
      }
      // The stream is open, its first content delivered, the rest held by the upstream.
      let held: boolean;
      let buffersGrew: number;
      try {
        held = await heapHolds(needle);
        buffersGrew = arrayBufferBytes() - buffersAtStart;
      } finally {
        upstream.finish();
      }
      expect(held).toBe(false);
      expect(buffersGrew).toBeLessThan(promptBytes / 4);
      // The route and the provider took the way this case is about (translated or native).
      expect(upstream.paths.at(-1)).toBe(upstreamPath);
      for (let next = await reader.next(); !next.done; next = await reader.next()) received += String(next.value);
      expect(received).toContain(lastEvent);
    });
  }
});
