import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockEmbedding, mockTokenCount, startOpenAIMock, type OpenAIMock } from '../../../test/mocks/openai-mock.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext } from '../../spec/provider.js';
import { createTestContext, sendUpstream, streamUpstream } from '../openai-compatible/test-support.js';
import { createOllamaAdapter } from './index.js';

let mock: OpenAIMock;
let context: ProviderContext;
const adapter = createOllamaAdapter({});

beforeEach(async () => {
  mock = await startOpenAIMock();
  context = createTestContext({ adapterType: 'ollama', model: 'llama3.2', key: { value: '', ollama: { url: mock.baseUrl } } });
});

afterEach(async () => {
  await mock.close();
});

const request: ChatCompletionRequest = {
  model: 'ollama/llama3.2',
  messages: [{ role: 'user', content: 'What is the weather?' }],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
  tool_choice: 'required',
  logit_bias: { '1': 1 },
  user: 'someone',
  n: 1,
  logprobs: false,
  seed: 3,
};

describe('Ollama adapter against the OpenAI mock', () => {
  it('drops the fields Ollama does not implement and completes', async () => {
    const response = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(response.status).toBe(200);
    const result = await adapter.chat.parseResponse(response, context);
    // Without tool_choice the mock has no reason to call the tool: the drop reached the wire.
    expect(result.completion.choices[0]?.message.content).toBe('What is the weather?');
    expect(mock.requests[0]?.body).toEqual({
      model: 'llama3.2',
      messages: request.messages,
      tools: request.tools,
      seed: 3,
    });
  });

  it('streams with usage', async () => {
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    expect(events.map((event) => (event.kind === 'chunk' ? (event.chunk.choices[0]?.delta.content ?? '') : '')).join('')).toBe('What is the weather?');
    expect(decoder.usage()).toEqual({
      inputTokens: mockTokenCount('What is the weather?'),
      outputTokens: mockTokenCount('What is the weather?'),
      cachedInputTokens: 0,
      reasoningTokens: 0,
    });
  });

  it('embeds text and refuses token ids without a round trip', async () => {
    const operation = adapter.embeddings;
    if (operation === undefined) throw new Error('Ollama serves embeddings');
    const embeddingContext = { ...context, model: 'nomic-embed-text' };
    const textRequest = { model: 'ollama/nomic-embed-text', input: 'hello' };
    const responses = await Promise.all((await operation.buildRequests(textRequest, embeddingContext)).map(sendUpstream));
    expect(operation.parseResponses(responses, textRequest, embeddingContext).result.data[0]?.embedding).toEqual(mockEmbedding('hello'));
    await expect(operation.buildRequests({ model: 'ollama/nomic-embed-text', input: [1, 2, 3] }, embeddingContext)).rejects.toMatchObject({ status: 400 });
    expect(mock.requests).toHaveLength(1);
  });
});
