/**
 * Proves that @anthropic-ai/sdk accepts what the /v1/messages conversion produces: a tiny HTTP server replays the
 * encoder's SSE (or a converted message, or an error body) and the official SDK parses it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../../../test/mocks/anthropic-mock.js';
import { createAnthropicAdapter } from '../../providers/anthropic/index.js';
import type { ChatCompletion, ChatCompletionChunk } from '../../spec/openai.js';
import type { ProviderContext } from '../../spec/provider.js';
import { anthropicErrorBody } from './error-body.js';
import { messagesRequestToChat } from './request.js';
import { chatCompletionToMessage } from './response.js';
import { createMessagesStreamEncoder } from './stream-encoder.js';

type Reply = { status: number; contentType: string; body: string };

let server: Server;
let baseURL: string;
const replies: Reply[] = [];
const received: unknown[] = [];

beforeAll(async () => {
  server = createServer((incoming, response) => {
    const parts: Buffer[] = [];
    incoming.on('data', (part: Buffer) => parts.push(part));
    incoming.on('end', () => {
      received.push(JSON.parse(Buffer.concat(parts).toString('utf8')));
      const reply = replies.shift() ?? { status: 500, contentType: 'application/json', body: '{}' };
      response.writeHead(reply.status, { 'content-type': reply.contentType, 'request-id': 'req_gateway_1' });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(): Anthropic {
  return new Anthropic({ apiKey: 'tollgate-virtual-key', baseURL, maxRetries: 0 });
}

function sse(body: string): Reply {
  return { status: 200, contentType: 'text/event-stream', body };
}

function chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

describe('@anthropic-ai/sdk against the /v1/messages conversion', () => {
  it('accumulates an encoded stream of text and tool calls into the final message', async () => {
    const encoder = createMessagesStreamEncoder({ model: 'gpt-4o', messageId: 'msg_gateway_1' });
    const openAIChunks: ChatCompletionChunk[] = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'Consider the city.' }),
      chunk({ content: 'Let me look ' }),
      chunk({ content: 'that up.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } }] }),
      chunk({}, 'tool_calls'),
    ];
    replies.push(sse(openAIChunks.map((item) => encoder.push(item)).join('') + encoder.finish({ inputTokens: 50, outputTokens: 17, cachedInputTokens: 30 })));

    const texts: string[] = [];
    const stream = client().messages.stream({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    stream.on('text', (delta) => texts.push(delta));
    const message = await stream.finalMessage();

    expect(texts.join('')).toBe('Let me look that up.');
    // The upstream's id (chatcmpl-9), as a non-streamed answer gives it.
    expect(message.id).toBe('msg_9');
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Consider the city.', signature: '' },
      { type: 'text', text: 'Let me look that up.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'get_time', input: { zone: 'CET' } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 17, cache_read_input_tokens: 30 });
  });

  it('carries a Claude stream end to end: mock upstream, adapter decoder, encoder, SDK', async () => {
    const mock: AnthropicMock = await startAnthropicMock();
    try {
      const body = { model: 'claude-opus-4-7', max_tokens: 200, stream: true, messages: [{ role: 'user' as const, content: 'Echo these words' }] };
      const adapter = createAnthropicAdapter({});
      const context: ProviderContext = {
        provider: { name: 'anthropic', adapterType: 'anthropic', network: { baseUrl: mock.baseUrl, extraHeaders: {}, timeoutMs: 1000, maxRetries: 0, retryBackoffInitialMs: 0, retryBackoffMaxMs: 0 } },
        key: { id: 'k', name: 'k', provider: 'anthropic', value: 'sk-ant-any' },
        model: 'claude-opus-4-7',
        requestId: 'r1',
        send: () => Promise.reject(new Error('not used')),
        now: () => 0,
      };
      const upstream = await adapter.chat.buildRequest(messagesRequestToChat(body, { anthropicExtensions: true }), context, { stream: true });
      const response = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
      const decoder = adapter.chat.createStreamDecoder(context);
      const encoder = createMessagesStreamEncoder({ model: body.model, messageId: 'msg_e2e' });
      let out = '';
      for await (const part of response.body) {
        for (const event of decoder.push(part as Uint8Array)) if (event.kind === 'chunk') out += encoder.push(event.chunk);
      }
      for (const event of decoder.finish()) if (event.kind === 'chunk') out += encoder.push(event.chunk);
      out += encoder.finish(decoder.usage());
      replies.push(sse(out));

      const message = await client().messages.stream(body).finalMessage();
      expect(message.content).toEqual([{ type: 'text', text: 'Echo these words' }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage).toMatchObject({ input_tokens: 4, output_tokens: 4 });
    } finally {
      await mock.close();
    }
  });

  it('throws the SDK error for an error event, with its Anthropic type', async () => {
    const encoder = createMessagesStreamEncoder({ model: 'm', messageId: 'msg_err' });
    replies.push(sse(encoder.push(chunk({ content: 'par' })) + encoder.fail({ type: 'service_unavailable_error', message: 'Upstream overloaded' })));
    const stream = await client().messages.create({ model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
    const seen: string[] = [];
    const failure = await (async () => {
      try {
        for await (const event of stream) seen.push(event.type);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect((failure as Error).message).toContain('Upstream overloaded');
  });

  it('parses a converted non-streamed reply', async () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-77',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Bonjour' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 },
    };
    replies.push({ status: 200, contentType: 'application/json', body: JSON.stringify(chatCompletionToMessage(completion, 'gpt-4o')) });
    const message = await client().messages.create({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'Hello in French' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'Bonjour' }]);
    expect(message.usage.input_tokens).toBe(8);
    expect(received.at(-1)).toMatchObject({ model: 'gpt-4o', max_tokens: 10 });
  });

  it('raises the typed SDK exception for an error body, code included', async () => {
    replies.push({
      status: 429,
      contentType: 'application/json',
      body: JSON.stringify(anthropicErrorBody({ status: 429, type: 'rate_limit_error', message: 'Key rate limit reached', code: 'API_KEY_RPM_LIMIT_EXCEEDED' }, 'req_gateway_1')),
    });
    const failure = await client()
      .messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.RateLimitError);
    const error = failure as InstanceType<typeof Anthropic.RateLimitError>;
    expect(error.type).toBe('rate_limit_error');
    expect(error.apiMessage).toBe('Key rate limit reached');
    expect(error.errorCode).toBe('API_KEY_RPM_LIMIT_EXCEEDED');
    expect(error.requestID).toBe('req_gateway_1');
  });
});
