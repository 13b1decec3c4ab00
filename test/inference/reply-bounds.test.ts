/**
 * The bound on what Tollgate holds of one upstream reply: a non-streamed reply read whole, and a stream's bytes
 * between two events. Beyond it the client gets a 502 (or, in a stream, the error event last) with
 * `upstream_response_too_large`, and the request is settled. The gateway here is built with a bound of 100,000
 * bytes so that the replies stay small.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startOpenAIThroughGateway, type OpenAIThroughGateway } from './inference-helpers.js';

const bound = 100_000;
let through: OpenAIThroughGateway;

beforeAll(async () => {
  through = await startOpenAIThroughGateway({ maxUpstreamReplyBytes: bound });
});
afterAll(async () => {
  await through.dispose();
});

const completion = (content: string) =>
  JSON.stringify({
    id: 'chatcmpl-bound',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  });

describe('the bound on a reply read whole', () => {
  it('serves a reply within the bound and answers one beyond it with a 502 in the error shape', async () => {
    through.mock.enqueue({ raw: completion('x'.repeat(bound - 1_000)) });
    const within = await post(through.tollgate, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(within.status, within.text).toBe(200);

    through.mock.enqueue({ raw: completion('x'.repeat(bound * 3)) });
    const beyond = await post(through.tollgate, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(beyond.status, beyond.text).toBe(502);
    expect(beyond.body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_response_too_large' });
  });

  it('ends a stream whose upstream sends more than the bound without completing an event', async () => {
    // One SSE event that never ends: no blank line, so the parser holds every byte of it.
    through.mock.enqueue({ raw: `data: {"choices":[{"index":0,"delta":{"content":"${'y'.repeat(bound * 3)}`, contentType: 'text/event-stream' });
    const reply = await post(through.tollgate, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.status).toBe(200);
    const events = reply.text.split('\n\n').filter((block) => block.startsWith('data: '));
    const last = JSON.parse(events.at(-1)!.slice('data: '.length));
    expect(last.error).toMatchObject({ code: 'upstream_response_too_large' });
    expect(reply.text).not.toContain('[DONE]');
  });
});
