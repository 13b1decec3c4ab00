import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../../../test/mocks/openai-mock.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext } from '../../spec/provider.js';
import { createTestContext, sendUpstream, streamUpstream } from '../openai-compatible/test-support.js';
import { createMistralAdapter } from './index.js';

const API_KEY = 'mistral-e2e-key-0000000001';
let mock: OpenAIMock;
let context: ProviderContext;
const adapter = createMistralAdapter({});

function fixtureText(name: string): string {
  return readFileSync(new URL(`../openai-compatible/fixtures/${name}`, import.meta.url), 'utf8');
}

beforeEach(async () => {
  mock = await startOpenAIMock({ apiKeys: [API_KEY] });
  context = createTestContext({ adapterType: 'mistral', baseUrl: mock.baseUrl, model: 'mistral-small-latest', key: { value: API_KEY } });
});

afterEach(async () => {
  await mock.close();
});

const request: ChatCompletionRequest = {
  model: 'mistral/mistral-small-latest',
  messages: [{ role: 'user', content: 'Bonjour' }],
  seed: 42,
  max_completion_tokens: 100,
  user: 'end-user-1',
  safe_prompt: true,
  stream_options: { include_usage: true },
};

describe('Mistral adapter against the OpenAI mock', () => {
  it('renames seed and max_completion_tokens and drops what Mistral rejects', async () => {
    const response = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(response.status).toBe(200);
    const result = await adapter.chat.parseResponse(response, context);
    expect(result.completion.choices[0]?.message.content).toBe('Bonjour');
    expect(mock.requests[0]?.body).toEqual({
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: 'Bonjour' }],
      random_seed: 42,
      max_tokens: 100,
      safe_prompt: true,
    });
  });

  it('streams without stream_options and reads the usage Mistral puts on its last chunk', async () => {
    const streamChunks = fixtureText('mistral-stream.sse')
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice('data: '.length)) as unknown);
    mock.enqueue({ streamChunks });
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    const body = mock.requests[0]?.body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body).not.toHaveProperty('stream_options');
    expect(events.map((event) => (event.kind === 'chunk' ? (event.chunk.choices[0]?.delta.content ?? '') : '')).join('')).toBe('Bonjour !');
    expect(decoder.usage()).toEqual({ inputTokens: 7, outputTokens: 3, cachedInputTokens: 0 });
  });

  it('maps a 422 validation error to a readable 400', async () => {
    mock.enqueue({ status: 422, body: JSON.parse(fixtureText('mistral-error.json')) });
    const response = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(adapter.parseError(response, context)).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: 'body.stream_options: Extra inputs are not permitted',
    });
  });

  it('sends embeddings with output_dimension instead of dimensions', async () => {
    const operation = adapter.embeddings;
    if (operation === undefined) throw new Error('Mistral serves embeddings');
    const embeddingRequest = { model: 'mistral/mistral-embed', input: ['a'], dimensions: 4, user: 'u' };
    const embeddingContext = { ...context, model: 'mistral-embed' };
    const responses = await Promise.all((await operation.buildRequests(embeddingRequest, embeddingContext)).map(sendUpstream));
    expect(responses[0]?.status).toBe(200);
    expect(mock.requests[0]?.body).toEqual({ model: 'mistral-embed', input: ['a'], output_dimension: 4 });
    expect(operation.parseResponses(responses, embeddingRequest, embeddingContext).result.data).toHaveLength(1);
  });
});
