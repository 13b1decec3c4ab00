import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { startGoogleMock, type GoogleMock } from '../../../test/mocks/google-mock.js';
import { readThoughtSignature } from '../gemini-format/tool-call-id.js';
import { createGeminiAdapter } from './index.js';

const adapter = createGeminiAdapter({});
let mock: GoogleMock;

beforeAll(async () => {
  mock = await startGoogleMock({ apiKeys: ['AIza-test-key'] });
});
afterAll(async () => {
  await mock.close();
});

function headersOf(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

async function send(upstream: UpstreamRequest): Promise<UpstreamResponse> {
  const reply = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  return { status: reply.statusCode, headers: headersOf(reply.headers), body: new Uint8Array(await reply.body.arrayBuffer()) };
}

function context(overrides: Partial<ProviderContext> = {}): ProviderContext {
  return {
    provider: {
      name: 'gemini',
      adapterType: 'gemini',
      network: { baseUrl: mock.baseUrl, extraHeaders: { 'x-extra': 'yes', 'X-Goog-Api-Key': 'must-not-win' }, timeoutMs: 10_000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 },
    },
    key: { id: 'k1', name: 'main', provider: 'gemini', value: 'AIza-test-key' },
    model: 'gemini-2.5-flash',
    requestId: 'req-1',
    send,
    now: () => 1_700_000_000_000,
    ...overrides,
  };
}

async function stream(chat: ChatCompletionRequest, ctx = context()): Promise<{ events: StreamEvent[]; upstream: UpstreamRequest; status: number }> {
  const upstream = await adapter.chat.buildRequest(chat, ctx, { stream: true });
  const reply = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  const decoder = adapter.chat.createStreamDecoder(ctx);
  const events: StreamEvent[] = [];
  try {
    for await (const piece of reply.body) events.push(...decoder.push(new Uint8Array(piece as Buffer)));
  } catch {
    // A dropped connection ends the body with an error; the decoder decides what that means.
  }
  events.push(...decoder.finish());
  return { events, upstream, status: reply.statusCode };
}

describe('Gemini adapter against the mock', () => {
  it('describes itself', () => {
    expect(adapter).toMatchObject({ type: 'gemini', credentialStyle: 'value', defaultBaseUrl: 'https://generativelanguage.googleapis.com' });
    expect(adapter.knownModels).toContain('gemini-2.5-flash');
  });

  it('completes a chat with the key in x-goog-api-key, winning over extra headers', async () => {
    const chat: ChatCompletionRequest = { model: 'gemini-2.5-flash', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] };
    const upstream = await adapter.chat.buildRequest(chat, context(), { stream: false });
    expect(upstream.url).toBe(`${mock.baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`);
    const reply = await send(upstream);
    expect(reply.status).toBe(200);
    const recorded = mock.requests.at(-1)!;
    expect(recorded.headers['x-goog-api-key']).toBe('AIza-test-key');
    expect(recorded.headers['x-extra']).toBe('yes');
    const { completion, usage } = await adapter.chat.parseResponse(reply, context());
    expect(completion.choices[0]?.message.content).toBe('You said: Hello there');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.model).toBe('gemini-2.5-flash');
    // The mock counts one candidate token per word of "You said: Hello there".
    expect(usage?.outputTokens).toBe(4);
    expect(recorded.body).toMatchObject({ systemInstruction: { parts: [{ text: 'Be brief.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hello there' }] }] });
    expect(usage?.inputTokens).toBeGreaterThan(0);
  });

  it('streams with alt=sse and reports the last record usage', async () => {
    const { events, upstream, status } = await stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'one two three' }] });
    expect(status).toBe(200);
    expect(upstream.url).toBe(`${mock.baseUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`);
    expect(events.every((event) => event.kind === 'chunk')).toBe(true);
    const text = events.map((event) => (event.kind === 'chunk' ? event.chunk.choices[0]?.delta.content ?? '' : '')).join('');
    expect(text).toBe('You said: one two three');
    const [finish, usage] = events.slice(-2);
    expect(finish?.kind === 'chunk' && finish.chunk.choices[0]?.finish_reason).toBe('stop');
    expect(usage?.kind === 'chunk' && usage.chunk.choices.length === 0 && usage.chunk.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('round-trips a tool call: declaration, call with a gateway id, result by name', async () => {
    const tools: ChatCompletionRequest['tools'] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', additionalProperties: false, properties: { city: { type: 'string' } }, required: ['city'] } } },
    ];
    const first = await send(await adapter.chat.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: 'auto' }, context(), { stream: false }));
    expect(first.status).toBe(200);
    const { completion } = await adapter.chat.parseResponse(first, context());
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(readThoughtSignature(call?.id)).toBe('bW9jay1zaWduYXR1cmU=');

    const second = await send(
      await adapter.chat.buildRequest(
        {
          model: 'm',
          tools,
          messages: [
            { role: 'user', content: 'Weather?' },
            { role: 'assistant', content: null, tool_calls: [call!] },
            { role: 'tool', tool_call_id: call!.id, content: '{"temperature":21}' },
          ],
        },
        context(),
        { stream: false },
      ),
    );
    expect(second.status).toBe(200);
    const sentParts = (mock.requests.at(-1)!.body as { contents: Array<{ parts: unknown[] }> }).contents[1]?.parts;
    expect(sentParts).toEqual([{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'bW9jay1zaWduYXR1cmU=' }]);
    const { completion: answer } = await adapter.chat.parseResponse(second, context());
    expect(answer.choices[0]?.message.content).toBe('The tool said: {"temperature":21}');
  });

  it('streams a tool call as one delta', async () => {
    const { events } = await stream({
      model: 'm',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
    });
    const calls = events.flatMap((event) => (event.kind === 'chunk' ? event.chunk.choices[0]?.delta.tool_calls ?? [] : []));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    const [finish, usage] = events.slice(-2);
    expect(finish?.kind === 'chunk' && finish.chunk.choices[0]?.finish_reason).toBe('tool_calls');
    expect(usage?.kind === 'chunk' && usage.chunk.choices).toEqual([]);
  });

  it('reads cached and thinking tokens from a scripted reply', async () => {
    mock.enqueue({
      status: 200,
      body: {
        candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 2, thoughtsTokenCount: 30, cachedContentTokenCount: 768, totalTokenCount: 1032 },
      },
    });
    const reply = await send(await adapter.chat.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, context(), { stream: false }));
    const { completion, usage } = await adapter.chat.parseResponse(reply, context());
    expect(usage).toEqual({ inputTokens: 1000, outputTokens: 32, cachedInputTokens: 768, reasoningTokens: 30 });
    expect(completion.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 32, total_tokens: 1032, prompt_tokens_details: { cached_tokens: 768 } });
  });

  it('reports a stream cut after the first record as an error event', async () => {
    mock.enqueue({
      streamRecords: [
        { candidates: [{ content: { role: 'model', parts: [{ text: 'partial' }] }, index: 0 }] },
        { candidates: [{ content: { role: 'model', parts: [{ text: ' never' }] }, finishReason: 'STOP', index: 0 }] },
      ],
      failAfter: 1,
    });
    const { events } = await stream({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(events.at(-1)).toMatchObject({ kind: 'error', error: { status: 502 } });
    expect(events.some((event) => event.kind === 'chunk' && event.chunk.choices[0]?.delta.content === 'partial')).toBe(true);
  });

  it('maps an invalid key to 401 and a quota error to 429 with its retry delay', async () => {
    const badKey = context({ key: { id: 'k2', name: 'bad', provider: 'gemini', value: 'AIza-wrong' } });
    const reply = await send(await adapter.chat.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, badKey, { stream: false }));
    expect(reply.status).toBe(400);
    expect(adapter.parseError(reply, badKey)).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key' });

    mock.enqueue({ status: 429, body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }] } } });
    const limited = await send(await adapter.chat.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, context(), { stream: false }));
    expect(adapter.parseError(limited, context())).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 2000 });
  });

  it('embeds through batchEmbedContents', async () => {
    const ctx = context({ model: 'text-embedding-004' });
    const embedding = { model: 'text-embedding-004', input: ['hello', 'world!'], dimensions: 3 };
    const upstreams = await adapter.embeddings!.buildRequests(embedding, ctx);
    expect(upstreams.map((upstream) => upstream.url)).toEqual([`${mock.baseUrl}/v1beta/models/text-embedding-004:batchEmbedContents`]);
    const replies = await Promise.all(upstreams.map(send));
    expect(replies.map((reply) => reply.status)).toEqual([200]);
    const { result } = adapter.embeddings!.parseResponses(replies, embedding, ctx);
    expect(result.data).toEqual([
      { object: 'embedding', index: 0, embedding: [5, 0, 0.5] },
      { object: 'embedding', index: 1, embedding: [6, 1, 0.5] },
    ]);
  });

  it('lets the core abort a hanging upstream', async () => {
    mock.enqueue({ hang: true });
    const upstream = await adapter.chat.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, context(), { stream: false });
    const controller = new AbortController();
    const received = mock.nextRequest();
    const pending = undiciRequest(upstream.url, { method: 'POST', headers: upstream.headers, body: upstream.body, signal: controller.signal });
    await received;
    controller.abort();
    await expect(pending).rejects.toThrow();
    await mock.whenAborted();
  });
});
