import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockTokenCount, startOpenAIMock, type OpenAIMock } from '../../../test/mocks/openai-mock.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext } from '../../spec/provider.js';
import { createTestContext, sendUpstream, streamUpstream } from '../openai-compatible/test-support.js';
import { createGroqAdapter } from './index.js';

const API_KEY = 'gsk_e2e_key_0000000000000001';
let mock: OpenAIMock;
let context: ProviderContext;
const adapter = createGroqAdapter({});

beforeEach(async () => {
  // Groq serves its OpenAI API under /openai, so the mock does too.
  mock = await startOpenAIMock({ apiKeys: [API_KEY], pathPrefix: '/openai' });
  context = createTestContext({ adapterType: 'groq', baseUrl: mock.baseUrl, model: 'llama-3.1-8b-instant', key: { value: API_KEY } });
});

afterEach(async () => {
  await mock.close();
});

const request: ChatCompletionRequest = {
  model: 'groq/llama-3.1-8b-instant',
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'Why is the sky blue?', name: 'ann' },
  ],
  logprobs: true,
  top_logprobs: 2,
  logit_bias: { '1234': -100 },
  n: 1,
};

describe('Groq adapter against the OpenAI mock', () => {
  it('strips the fields Groq rejects and completes without streaming', async () => {
    const response = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(response.status).toBe(200);
    const result = await adapter.chat.parseResponse(response, context);
    expect(result.completion.choices[0]?.message.content).toBe('Why is the sky blue?');
    expect(result.usage?.inputTokens).toBe(mockTokenCount('Answer briefly.') + mockTokenCount('Why is the sky blue?'));
    expect(mock.requests[0]?.path).toBe('/openai/v1/chat/completions');
    expect(mock.requests[0]?.body).toEqual({
      model: 'llama-3.1-8b-instant',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Why is the sky blue?' },
      ],
      n: 1,
    });
  });

  it('refuses n above 1 before sending anything', async () => {
    await expect(adapter.chat.buildRequest({ ...request, n: 3 }, context, { stream: false })).rejects.toMatchObject({ status: 400, param: 'n' });
    expect(mock.requests).toHaveLength(0);
  });

  it('streams with the standard usage chunk', async () => {
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    const text = events.map((event) => (event.kind === 'chunk' ? (event.chunk.choices[0]?.delta.content ?? '') : '')).join('');
    expect(text).toBe('Why is the sky blue?');
    expect(decoder.usage()?.outputTokens).toBe(mockTokenCount('Why is the sky blue?'));
  });

  it('reads usage from x_groq when Groq sends only that', async () => {
    const recorded = readFileSync(new URL('../openai-compatible/fixtures/groq-stream-x-groq.sse', import.meta.url), 'utf8');
    const streamChunks = recorded
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => line.slice('data: '.length));
    mock.enqueue({ streamChunks });
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    expect(decoder.usage()).toEqual({ inputTokens: 40, outputTokens: 5, cachedInputTokens: 0 });
    expect(events.map((event) => (event.kind === 'chunk' ? event.raw : undefined)).slice(0, 4)).toEqual(streamChunks);
    const last = events.at(-1);
    expect(last?.kind === 'chunk' ? last.chunk.usage?.total_tokens : undefined).toBe(45);
  });

  it('has no embeddings operation', () => {
    expect(adapter.embeddings).toBeUndefined();
  });
});
