import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockEmbedding, mockTokenCount, startOpenAIMock, type OpenAIMock } from '../../../test/mocks/openai-mock.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderAdapter, ProviderContext } from '../../spec/provider.js';
import { createTestContext, sendUpstream, streamUpstream } from '../openai-compatible/test-support.js';
import { createOpenAIAdapter } from './index.js';

const API_KEY = 'sk-proj-e2e-key-000000000001';
let mock: OpenAIMock;
let adapter: ProviderAdapter;
let context: ProviderContext;

beforeEach(async () => {
  mock = await startOpenAIMock({ apiKeys: [API_KEY] });
  adapter = createOpenAIAdapter({});
  context = createTestContext({ baseUrl: mock.baseUrl, model: 'gpt-4o-mini', key: { value: API_KEY } });
});

afterEach(async () => {
  await mock.close();
});

const request: ChatCompletionRequest = {
  model: 'openai/gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello to the gateway' }],
  metadata: { team: 'qa' },
};

describe('OpenAI adapter against the OpenAI mock', () => {
  it('completes a chat without streaming, forwarding unknown fields and the upstream model', async () => {
    const upstream = await adapter.chat.buildRequest(request, context, { stream: false });
    const response = await sendUpstream(upstream);
    expect(response.status).toBe(200);
    const result = await adapter.chat.parseResponse(response, context);
    expect(result.passthrough).toBe(true);
    expect(result.completion.choices[0]?.message.content).toBe('Say hello to the gateway');
    expect(result.usage).toMatchObject({ inputTokens: mockTokenCount('Say hello to the gateway'), outputTokens: mockTokenCount('Say hello to the gateway') });
    expect(mock.requests[0]?.body).toEqual({ ...request, model: 'gpt-4o-mini' });
  });

  it('streams a chat with usage requested upstream and every chunk forwardable as is', async () => {
    const upstream = await adapter.chat.buildRequest({ ...request, stream: true }, context, { stream: true });
    expect(upstream.headers.accept).toBe('text/event-stream');
    const decoder = adapter.chat.createStreamDecoder(context);
    const { status, events } = await streamUpstream(upstream, decoder);
    expect(status).toBe(200);
    expect(events.every((event) => event.kind === 'chunk' && event.raw !== undefined)).toBe(true);
    const text = events.map((event) => (event.kind === 'chunk' ? (event.chunk.choices[0]?.delta.content ?? '') : '')).join('');
    expect(text).toBe('Say hello to the gateway');
    expect(decoder.usage()?.outputTokens).toBe(mockTokenCount('Say hello to the gateway'));
    expect((mock.requests[0]?.body as Record<string, unknown>).stream_options).toEqual({ include_usage: true });
  });

  it('streams a forced tool call', async () => {
    const toolRequest: ChatCompletionRequest = {
      ...request,
      tools: [{ type: 'function', function: { name: 'greet', parameters: { type: 'object' } } }],
      tool_choice: 'required',
    };
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(toolRequest, context, { stream: true }), decoder);
    const argumentsText = events
      .map((event) => (event.kind === 'chunk' ? (event.chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '') : ''))
      .join('');
    expect(JSON.parse(argumentsText)).toEqual({ input: 'Say hello to the gateway' });
    expect(events.some((event) => event.kind === 'chunk' && event.chunk.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it('embeds as floats, and keeps base64 vectors as received', async () => {
    const operation = adapter.embeddings;
    expect(operation).toBeDefined();
    if (operation === undefined) return;
    const embeddingContext = { ...context, model: 'text-embedding-3-small' };
    const floatRequest = { model: 'text-embedding-3-small', input: ['one', 'two'] };
    const floats = operation.parseResponses(
      await Promise.all((await operation.buildRequests(floatRequest, embeddingContext)).map(sendUpstream)),
      floatRequest,
      embeddingContext,
    );
    expect(floats.result.data.map((item) => item.embedding)).toEqual([mockEmbedding('one'), mockEmbedding('two')]);
    expect(floats.usage?.inputTokens).toBe(mockTokenCount('one') + mockTokenCount('two'));

    const base64Request = { model: 'text-embedding-3-small', input: 'one', encoding_format: 'base64' as const };
    const encoded = operation.parseResponses(
      await Promise.all((await operation.buildRequests(base64Request, embeddingContext)).map(sendUpstream)),
      base64Request,
      embeddingContext,
    );
    const vector = encoded.result.data[0]?.embedding;
    expect(typeof vector).toBe('string');
    const bytes = Buffer.from(vector as string, 'base64');
    expect(Array.from({ length: 8 }, (_, index) => bytes.readFloatLE(index * 4))).toEqual(mockEmbedding('one'));
  });

  it('maps a rejected key to a 401 without repeating the key', async () => {
    const wrongContext = createTestContext({ baseUrl: mock.baseUrl, key: { value: 'sk-proj-wrong-key-99999999' } });
    const response = await sendUpstream(await adapter.chat.buildRequest(request, wrongContext, { stream: false }));
    const error = adapter.parseError(response, wrongContext);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key' });
    expect(error.message).not.toContain('sk-proj-wrong-key-99999999');
  });

  it('maps a 429 with its retry delay, and a mid-stream error chunk to an error event', async () => {
    mock.enqueue({
      status: 429,
      body: { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
      headers: { 'retry-after': '3' },
    });
    const limited = await sendUpstream(await adapter.chat.buildRequest(request, context, { stream: false }));
    expect(adapter.parseError(limited, context)).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 3000 });

    mock.enqueue({
      streamChunks: [
        { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] },
        { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } },
      ],
    });
    const decoder = adapter.chat.createStreamDecoder(context);
    const { events } = await streamUpstream(await adapter.chat.buildRequest(request, context, { stream: true }), decoder);
    expect(events.map((event) => event.kind)).toEqual(['chunk', 'error']);
    expect(events[1]?.kind === 'error' ? events[1].error.status : undefined).toBe(502);
  });
});
