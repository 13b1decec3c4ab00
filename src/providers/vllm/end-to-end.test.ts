import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockTokenCount, startOpenAIMock, type OpenAIMock } from '../../../test/mocks/openai-mock.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext } from '../../spec/provider.js';
import { createTestContext, sendUpstream, streamUpstream } from '../openai-compatible/test-support.js';
import { createVllmAdapter } from './index.js';

let mock: OpenAIMock;
let context: ProviderContext;
const adapter = createVllmAdapter({});

beforeEach(async () => {
  mock = await startOpenAIMock();
  // A keyless server addressed by the key's URL, pasted SDK-style with /v1, serving a pinned model.
  context = createTestContext({
    adapterType: 'vllm',
    model: 'whatever-the-client-said',
    key: { value: '', vllm: { url: `${mock.baseUrl}/v1/`, modelName: 'Qwen/Qwen2.5-7B-Instruct' } },
  });
});

afterEach(async () => {
  await mock.close();
});

const request: ChatCompletionRequest = {
  model: 'vllm/whatever-the-client-said',
  messages: [{ role: 'user', content: 'Count to three' }],
  top_k: 20,
  min_p: 0.05,
  repetition_penalty: 1.1,
};

describe('vLLM adapter against the OpenAI mock', () => {
  it('uses the key URL and pinned model, sends no authorization, and keeps vLLM sampling fields', async () => {
    const response = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(response.status).toBe(200);
    const result = await adapter.chat.parseResponse(response, context);
    expect(result.completion.model).toBe('Qwen/Qwen2.5-7B-Instruct');
    expect(mock.requests[0]?.path).toBe('/v1/chat/completions');
    expect(mock.requests[0]?.headers.authorization).toBeUndefined();
    expect(mock.requests[0]?.body).toEqual({ ...request, model: 'Qwen/Qwen2.5-7B-Instruct' });
  });

  it('streams the default reply with usage', async () => {
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    expect(events.map((event) => (event.kind === 'chunk' ? (event.chunk.choices[0]?.delta.content ?? '') : '')).join('')).toBe('Count to three');
    expect(decoder.usage()?.outputTokens).toBe(mockTokenCount('Count to three'));
  });

  it('normalises a usage chunk whose choices are null', async () => {
    const streamChunks = readFileSync(new URL('../openai-compatible/fixtures/vllm-stream-null-choices.sse', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => line.slice('data: '.length));
    mock.enqueue({ streamChunks });
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    expect(events).toHaveLength(4);
    expect(events[3]?.kind === 'chunk' ? events[3].chunk.choices : undefined).toEqual([]);
    expect(decoder.usage()).toEqual({ inputTokens: 12, outputTokens: 5, cachedInputTokens: 0 });
  });

  it('maps the flat vLLM error body', async () => {
    mock.enqueue({ status: 404, body: JSON.parse(readFileSync(new URL('../openai-compatible/fixtures/vllm-flat-error.json', import.meta.url), 'utf8')) });
    const response = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(adapter.parseError(response, context)).toMatchObject({ status: 404, type: 'not_found_error', message: expect.stringContaining('does not exist') });
  });

  it('forwards token-id embedding inputs', async () => {
    const operation = adapter.embeddings;
    if (operation === undefined) throw new Error('vLLM serves embeddings');
    const embeddingRequest = { model: 'vllm/e5', input: [[101, 2023, 102]] };
    const responses = await Promise.all((await operation.buildRequests(embeddingRequest, context)).map(sendUpstream));
    const { result, usage } = operation.parseResponses(responses, embeddingRequest, context);
    expect(result.data).toHaveLength(1);
    expect(usage?.inputTokens).toBe(3);
    expect((mock.requests[0]?.body as Record<string, unknown>).input).toEqual([[101, 2023, 102]]);
  });
});
