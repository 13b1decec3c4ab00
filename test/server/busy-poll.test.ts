/**
 * TOLLGATE_BUSY_POLL_MICROSECONDS end to end: the gateway notes traffic on its poll for requests arriving and for
 * the upstream's replies, answers exactly as without it (plain and streamed), and stops polling when closed.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BusyPoll } from '../../src/server/busy-poll.js';
import { startLiveGateway } from '../support/live-gateway.js';
import { readChatStream, startOpenAIThroughGateway, type OpenAIThroughGateway } from '../inference/inference-helpers.js';

describe('a gateway with busy polling on', () => {
  let setup: OpenAIThroughGateway;
  let client: OpenAI;
  const poll = new BusyPoll(200);
  const touch = vi.spyOn(poll, 'touch');

  beforeAll(async () => {
    setup = await startOpenAIThroughGateway({ busyPoll: poll });
    client = setup.client;
  });
  afterAll(async () => {
    await setup.dispose();
  });

  it('notes the request and the upstream reply, and answers as usual', async () => {
    touch.mockClear();
    const completion = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hello there' }] });
    expect(completion.choices[0]?.message.content).toContain('hello there');
    // The request in, the upstream request out, its headers, its body, its end.
    expect(touch.mock.calls.length).toBeGreaterThanOrEqual(5);
  });

  it('streams as usual', async () => {
    touch.mockClear();
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, usage } = await readChatStream(stream);
    expect(text).toContain('stream me please');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(touch.mock.calls.length).toBeGreaterThanOrEqual(5);
  });

  it('stops polling when the gateway closes', async () => {
    // A window of a minute: the poll is certainly still on when the answer is read, however slow the machine.
    const separate = new BusyPoll(60_000_000);
    const gateway = await startLiveGateway({ busyPoll: separate });
    const reply = await fetch(`${gateway.url}/health`);
    expect(reply.status).toBe(200);
    expect(separate.polling).toBe(true);
    await gateway.dispose();
    await new Promise((resolve) => setImmediate(resolve));
    expect(separate.polling).toBe(false);
  });
});
