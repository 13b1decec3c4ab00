/**
 * Streams are batched per upstream read (the SSE writer sends the events of one read in one socket write), and
 * these tests hold the gateway to what that must not cost: no event waits for the next upstream read, and the
 * client sees the stream start before the upstream's first event. The upstream here sends its next event only
 * once the client has received the previous one, so an event held back would stall the test instead of being
 * measured against a clock.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { immediateRetries } from './inference-helpers.js';

/** An OpenAI-compatible upstream that streams `words` one event at a time, each only when `release()` allows it. */
interface LockstepUpstream {
  baseUrl: string;
  /** Lets the current stream send its next event (the first release sends the first word). */
  release(): void;
  /** How many events the current stream has sent. */
  sent(): number;
  close(): Promise<void>;
}

async function startLockstepUpstream(words: string[]): Promise<LockstepUpstream> {
  let releases = 0;
  let sent = 0;
  let wake: (() => void) | undefined;
  const released = async (count: number) => {
    while (releases < count) await new Promise<void>((resolve) => (wake = resolve));
  };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      void (async () => {
        releases = 0;
        sent = 0;
        const envelope = { id: 'chatcmpl-lockstep', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o', usage: null };
        response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        // The status line and headers go now; the first event only when the test releases it.
        response.flushHeaders();
        for (const [index, word] of words.entries()) {
          await released(index + 1);
          const delta = index === 0 ? { role: 'assistant', content: word } : { content: word };
          response.write(`data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`);
          sent += 1;
        }
        await released(words.length + 1);
        const usage = { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length };
        response.write(`data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] })}\n\n`);
        response.write(`data: ${JSON.stringify({ ...envelope, choices: [], usage })}\n\n`);
        response.end('data: [DONE]\n\n');
        sent += 1;
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    release() {
      releases += 1;
      wake?.();
    },
    sent: () => sent,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

describe('streamed events reach the client as the upstream sends them', () => {
  const words = ['one ', 'two ', 'three ', 'four'];
  let upstream: LockstepUpstream;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    upstream = await startLockstepUpstream(words);
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: upstream.baseUrl, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'lockstep', value: 'sk-lockstep' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await upstream.close();
  });

  it('on /v1/chat/completions: headers before the first event, then each event before the upstream sends the next', async () => {
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    // create() resolves on the response headers, which the upstream's first event is still waiting for.
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(upstream.sent()).toBe(0);
    upstream.release();
    const received: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content;
      if (content) {
        received.push(content);
        // The upstream has sent exactly the events the client holds: the gateway kept none back.
        expect(upstream.sent()).toBe(received.length);
        upstream.release();
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(received).toEqual(words);
    expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4 });
  });

  it('on /v1/chat/completions without include_usage: the same, and the usage-only chunk is dropped', async () => {
    const response = await fetch(`${tollgate.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    upstream.release();
    const events: string[] = [];
    let buffered = '';
    const decoder = new TextDecoder();
    for await (const bytes of response.body!) {
      buffered += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        events.push(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        if (events.length <= words.length) {
          expect(upstream.sent()).toBe(events.length);
          upstream.release();
        }
      }
    }
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(words.join(''));
    expect(chunks.some((chunk) => chunk.choices.length === 0)).toBe(false);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
  });

  it('on /v1/messages: each text delta before the upstream sends the next', async () => {
    const anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
    const stream = await anthropic.messages.create({ model: 'openai/gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'x' }], stream: true });
    upstream.release();
    const received: string[] = [];
    let outputTokens: number | undefined;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        received.push(event.delta.text);
        expect(upstream.sent()).toBe(received.length);
        upstream.release();
      }
      if (event.type === 'message_delta') outputTokens = event.usage.output_tokens;
    }
    expect(received).toEqual(words);
    expect(outputTokens).toBe(4);
  });
});
