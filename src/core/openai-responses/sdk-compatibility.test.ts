/**
 * Proves that the official `openai` SDK accepts what the /v1/responses conversion produces: a fetch stand-in replays
 * the encoder's SSE (or a converted Response) and the SDK's own stream machinery accumulates it.
 */
import OpenAI from 'openai';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../../../test/mocks/anthropic-mock.js';
import { createAnthropicAdapter } from '../../providers/anthropic/index.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext } from '../../spec/provider.js';
import { chatCompletionToResponse, responseEchoOf, responseIdFor } from './response.js';
import { createResponsesStreamEncoder } from './stream-encoder.js';

type Reply = { contentType: string; body: string };

/** A client whose every request is answered with `reply`; the bodies it sent are kept in `sent`. */
function clientAnswering(reply: Reply, sent: unknown[] = []): OpenAI {
  return new OpenAI({
    apiKey: 'tollgate-virtual-key',
    baseURL: 'http://gateway.test/v1',
    maxRetries: 0,
    fetch: async (_url, init) => {
      sent.push(typeof init?.body === 'string' ? JSON.parse(init.body) : undefined);
      return new Response(reply.body, { status: 200, headers: { 'content-type': reply.contentType, 'x-request-id': 'req_gateway_1' } });
    },
  });
}

function sse(body: string): Reply {
  return { contentType: 'text/event-stream', body };
}

function chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'upstream', choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

function encoderFor(body: Record<string, unknown>) {
  return createResponsesStreamEncoder({ id: responseIdFor(), model: String(body.model), createdAt: 1_700_000_000, echo: responseEchoOf(body), clock: () => 1_700_000_001_000 });
}

const weatherTools = [
  { type: 'function' as const, name: 'get_weather', strict: true, parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false } },
  { type: 'function' as const, name: 'get_time', strict: true, parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'], additionalProperties: false } },
];

describe('the openai SDK against the /v1/responses conversion', () => {
  it('accumulates an encoded stream of reasoning, text and function calls into the final Response', async () => {
    const body = { model: 'gpt-via-gateway', input: 'Weather in Paris?', tools: weatherTools };
    const encoder = encoderFor(body);
    const chunks: ChatCompletionChunk[] = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'Consider ' }),
      chunk({ reasoning_content: 'the city.' }),
      chunk({ content: 'Let me look ' }),
      chunk({ content: 'that up.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } }] }),
      chunk({}, 'tool_calls'),
    ];
    const usage = { inputTokens: 50, outputTokens: 17, cachedInputTokens: 30, reasoningTokens: 6 };
    const sent: unknown[] = [];
    const client = clientAnswering(sse(chunks.map((item) => encoder.push(item)).join('') + encoder.finish(usage)), sent);

    const texts: string[] = [];
    const argumentSnapshots: string[] = [];
    const stream = client.responses.stream(body);
    stream.on('response.output_text.delta', (event) => texts.push(event.delta));
    stream.on('response.function_call_arguments.delta', (event) => argumentSnapshots.push(event.snapshot));
    const response = await stream.finalResponse();

    expect(sent[0]).toMatchObject({ model: 'gpt-via-gateway', stream: true });
    expect(texts.join('')).toBe('Let me look that up.');
    expect(argumentSnapshots).toEqual(['{"location":', '{"location":"Paris"}', '{"zone":"CET"}']);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('Let me look that up.');
    expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call']);
    const [reasoning, , weather, time] = response.output;
    expect(reasoning).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Consider the city.' }] });
    expect(weather).toMatchObject({ type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}', parsed_arguments: { location: 'Paris' } });
    expect(time).toMatchObject({ type: 'function_call', call_id: 'call_2', name: 'get_time', parsed_arguments: { zone: 'CET' } });
    expect(response.usage).toEqual({
      input_tokens: 50,
      input_tokens_details: { cached_tokens: 30, cache_write_tokens: 0 },
      output_tokens: 17,
      output_tokens_details: { reasoning_tokens: 6 },
      total_tokens: 67,
    });
  });

  it('accumulates a custom tool call streamed in fragments, and finds it in the final Response', async () => {
    const body = { model: 'gpt-via-gateway', input: 'Fix it', tools: [{ type: 'custom' as const, name: 'apply_patch' }] };
    const encoder = encoderFor(body);
    const customDelta = (call: Record<string, unknown>) => chunk({ tool_calls: [call as never] });
    let text = encoder.push(customDelta({ index: 0, id: 'call_p', type: 'custom', custom: { name: 'apply_patch', input: '' } }));
    text += encoder.push(customDelta({ index: 0, custom: { input: '*** Begin ' } }));
    text += encoder.push(customDelta({ index: 0, custom: { input: 'Patch' } }));
    text += encoder.push(chunk({}, 'tool_calls'));
    text += encoder.finish({ inputTokens: 5, outputTokens: 3, cachedInputTokens: 0 });
    const stream = clientAnswering(sse(text)).responses.stream(body);
    const deltas: string[] = [];
    stream.on('response.custom_tool_call_input.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    expect(deltas).toEqual(['*** Begin ', 'Patch']);
    expect(response.output).toEqual([{ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_/), call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch' }]);
  });

  it('yields every event, numbered, to a client iterating create({ stream: true })', async () => {
    const body = { model: 'm', input: 'x' };
    const encoder = encoderFor(body);
    const client = clientAnswering(sse(encoder.push(chunk({ content: 'Hi' }, 'stop')) + encoder.finish(undefined)));
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ ...body, stream: true })) events.push(event);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const last = events.at(-1);
    expect(last?.type).toBe('response.completed');
    if (last?.type === 'response.completed') expect(last.response.output).toHaveLength(1);
  });

  it('gives a Response cut by the token limit its incomplete status', async () => {
    const body = { model: 'm', input: 'Tell a story', max_output_tokens: 3 };
    const encoder = encoderFor(body);
    const client = clientAnswering(sse(encoder.push(chunk({ content: 'Once upon a' }, 'length')) + encoder.finish(undefined)));
    const response = await client.responses.stream(body).finalResponse();
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.max_output_tokens).toBe(3);
    expect(response.output_text).toBe('Once upon a');
  });

  it('carries an Anthropic stream end to end: mock upstream, adapter decoder, encoder, SDK', async () => {
    const mock: AnthropicMock = await startAnthropicMock();
    try {
      const chatRequest: ChatCompletionRequest = { model: 'claude-opus-4-7', max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'Echo these words' }] };
      const adapter = createAnthropicAdapter({});
      const context: ProviderContext = {
        provider: { name: 'anthropic', adapterType: 'anthropic', network: { baseUrl: mock.baseUrl, extraHeaders: {}, timeoutMs: 1000, maxRetries: 0, retryBackoffInitialMs: 0, retryBackoffMaxMs: 0 } },
        key: { id: 'k', name: 'k', provider: 'anthropic', value: 'sk-ant-any' },
        model: 'claude-opus-4-7',
        requestId: 'r1',
        send: () => Promise.reject(new Error('not used')),
        now: () => 0,
      };
      const upstream = await adapter.chat.buildRequest(chatRequest, context, { stream: true });
      const answer = await request(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
      const decoder = adapter.chat.createStreamDecoder(context);
      const body = { model: 'claude-opus-4-7', input: 'Echo these words', max_output_tokens: 200 };
      const encoder = encoderFor(body);
      let out = '';
      for await (const part of answer.body) {
        for (const event of decoder.push(part as Uint8Array)) if (event.kind === 'chunk') out += encoder.push(event.chunk);
      }
      for (const event of decoder.finish()) if (event.kind === 'chunk') out += encoder.push(event.chunk);
      out += encoder.finish(decoder.usage());

      const response = await clientAnswering(sse(out)).responses.stream(body).finalResponse();
      expect(response.output_text).toBe('Echo these words');
      expect(response.status).toBe('completed');
      expect(response.usage).toMatchObject({ input_tokens: 4, output_tokens: 4 });
    } finally {
      await mock.close();
    }
  });

  it('throws an APIError carrying the message when the stream ends with an error event', async () => {
    const body = { model: 'm', input: 'x' };
    const encoder = encoderFor(body);
    const text = encoder.push(chunk({ content: 'par' })) + encoder.fail({ type: 'service_unavailable_error', code: 'upstream_overloaded', message: 'Upstream overloaded' });
    const stream = await clientAnswering(sse(text)).responses.create({ ...body, stream: true });
    const seen: string[] = [];
    const failure = await (async () => {
      try {
        for await (const event of stream) seen.push(event.type);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(seen).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta']);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const error = failure as InstanceType<typeof OpenAI.APIError>;
    expect(error.message).toContain('Upstream overloaded');
    expect(error.type).toBe('service_unavailable_error');
    expect(error.code).toBe('upstream_overloaded');
  });

  it('rejects finalResponse() for a stream failed before it started', async () => {
    const body = { model: 'm', input: 'x' };
    const text = encoderFor(body).fail({ type: 'timeout_error', message: 'Upstream timed out' });
    const failure = await clientAnswering(sse(text))
      .responses.stream(body)
      .finalResponse()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('Upstream timed out');
  });

  it('parses a converted non-streamed reply, output_text computed by the SDK', async () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-77',
      object: 'chat.completion',
      created: 1,
      model: 'upstream',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Bonjour', reasoning_content: 'French greeting.' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 },
    };
    const body = { model: 'gpt-via-gateway', input: 'Hello in French', instructions: 'Answer in French.' };
    const converted = chatCompletionToResponse(completion, { id: responseIdFor(), model: body.model, createdAt: 1_700_000_000, echo: responseEchoOf(body), completedAt: 1_700_000_001 });
    const response = await clientAnswering({ contentType: 'application/json', body: JSON.stringify(converted) }).responses.create(body);
    expect(response.output_text).toBe('Bonjour');
    expect(response.status).toBe('completed');
    expect(response.instructions).toBe('Answer in French.');
    expect(response.output[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'French greeting.' }] });
    expect(response.usage?.input_tokens).toBe(8);
  });
});
