import OpenAI from 'openai';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { mockEmbedding, mockTokenCount, startOpenAIMock, type OpenAIMock } from './openai-mock.js';

let mock: OpenAIMock | undefined;

afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

describe('startOpenAIMock driven by the official OpenAI SDK', () => {
  it('answers a chat completion that echoes the last user message with deterministic usage', async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-good-key-123456'] });
    const client = new OpenAI({ apiKey: 'sk-good-key-123456', baseURL: `${mock.baseUrl}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello there, mock!' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello there, mock!');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.model).toBe('gpt-4o-mini');
    const prompt = mockTokenCount('Be brief.') + mockTokenCount('Hello there, mock!');
    const completionTokens = mockTokenCount('Hello there, mock!');
    expect(completion.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens });
    expect(mock.requests[0]?.headers.authorization).toBe('Bearer sk-good-key-123456');
    expect(mock.requests[0]?.path).toBe('/v1/chat/completions');
  });

  it('streams a role chunk, word chunks, a finish chunk and the usage chunk only when asked', async () => {
    mock = await startOpenAIMock();
    const client = new OpenAI({ apiKey: 'anything', baseURL: `${mock.baseUrl}/v1`, maxRetries: 0 });
    const withUsage = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('one two three');
    expect(chunks.filter((chunk) => (chunk.choices[0]?.delta.content ?? '') !== '')).toHaveLength(3);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(mockTokenCount('one two three'));

    const withoutUsage = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'one two' }],
      stream: true,
    });
    const plain = [];
    for await (const chunk of withoutUsage) plain.push(chunk);
    expect(plain.every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(plain.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('calls the named tool, streamed or not', async () => {
    mock = await startOpenAIMock();
    const client = new OpenAI({ apiKey: 'anything', baseURL: `${mock.baseUrl}/v1`, maxRetries: 0 });
    const tools = [
      { type: 'function' as const, function: { name: 'first', parameters: { type: 'object' } } },
      { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } },
    ];
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'find cats' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'lookup' } },
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('lookup');
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual({ input: 'find cats' });

    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'find dogs' }],
      tools,
      tool_choice: 'required',
      stream: true,
    });
    let argumentsText = '';
    let name: string | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0];
      name ??= delta?.function?.name;
      argumentsText += delta?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('first');
    expect(JSON.parse(argumentsText)).toEqual({ input: 'find dogs' });
    expect(finish).toBe('tool_calls');
  });

  it('returns embeddings as floats, or as base64 little-endian float32 that the SDK decodes to the same values', async () => {
    mock = await startOpenAIMock();
    const client = new OpenAI({ apiKey: 'anything', baseURL: `${mock.baseUrl}/v1`, maxRetries: 0 });
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float' });
    expect(floats.data.map((item) => item.embedding)).toEqual([mockEmbedding('alpha'), mockEmbedding('beta')]);
    expect(floats.usage.prompt_tokens).toBe(mockTokenCount('alpha') + mockTokenCount('beta'));

    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', dimensions: 4, encoding_format: 'base64' });
    const raw = decoded.data[0]?.embedding as unknown as string;
    const bytes = Buffer.from(raw, 'base64');
    const values = Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
    expect(values).toEqual(mockEmbedding('alpha', 4));
  });

  it('rejects a wrong key with OpenAI 401 body that masks the key', async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-good-key-123456'] });
    const client = new OpenAI({ apiKey: 'sk-wrong-key-987654', baseURL: `${mock.baseUrl}/v1`, maxRetries: 0 });
    const failure = await client.models.list().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.AuthenticationError);
    const apiError = failure as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(apiError.code).toBe('invalid_api_key');
    expect(apiError.message).not.toContain('sk-wrong-key-987654');
    expect(apiError.message).toContain('7654');
  });
});

describe('startOpenAIMock checks', () => {
  it('requires the bearer header when keys are configured', async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-good-key-123456'] });
    const reply = await post(`${mock.baseUrl}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.text).error).toMatchObject({ type: 'invalid_request_error', code: null });
  });

  it('serves only under the path prefix', async () => {
    mock = await startOpenAIMock({ pathPrefix: '/openai' });
    expect(mock.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai$/);
    const origin = mock.baseUrl.slice(0, -'/openai'.length);
    const wrong = await post(`${origin}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(wrong.status).toBe(404);
    expect(JSON.parse(wrong.text).error.message).toBe('Invalid URL (POST /v1/chat/completions)');
    const right = await post(`${mock.baseUrl}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(right.status).toBe(200);
  });

  it('answers 400 for a missing content type, a missing model, missing messages and stray stream_options', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/chat/completions`;
    const noContentType = await request(url, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [] }) });
    expect(noContentType.statusCode).toBe(400);
    await noContentType.body.text();
    const noModel = await post(url, { messages: [{ role: 'user', content: 'x' }] });
    expect(JSON.parse(noModel.text).error.message).toBe('you must provide a model parameter');
    const noMessages = await post(url, { model: 'm' });
    expect(JSON.parse(noMessages.text).error).toMatchObject({ param: 'messages', code: 'missing_required_parameter' });
    const strayOptions = await post(url, { model: 'm', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } });
    expect(strayOptions.status).toBe(400);
    expect(JSON.parse(strayOptions.text).error.param).toBe('stream_options');
    expect(mock.requests).toHaveLength(4);
    expect(mock.requests[2]?.body).toEqual({ model: 'm' });
  });

  it('uses enqueued canned replies in order, then returns to the default', async () => {
    mock = await startOpenAIMock();
    mock.enqueue({ status: 429, body: { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, headers: { 'retry-after-ms': '250' } });
    mock.enqueue({ status: 502, body: '<html>bad gateway</html>' });
    const url = `${mock.baseUrl}/v1/chat/completions`;
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    const first = await post(url, body);
    expect(first.status).toBe(429);
    expect(first.headers['retry-after-ms']).toBe('250');
    const second = await post(url, body);
    expect(second.status).toBe(502);
    expect(second.text).toBe('<html>bad gateway</html>');
    const third = await post(url, body);
    expect(third.status).toBe(200);
  });

  it('streams enqueued chunks and, with failAfter, breaks the connection without [DONE]', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/chat/completions`;
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true };
    mock.enqueue({ streamChunks: [{ n: 1 }, 'not json'] });
    const whole = await post(url, body);
    expect(whole.text).toBe('data: {"n":1}\n\ndata: not json\n\ndata: [DONE]\n\n');

    mock.enqueue({ streamChunks: [{ n: 1 }, { n: 2 }, { n: 3 }], failAfter: 2 });
    const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let received = '';
    const failure = await (async () => {
      for await (const piece of response.body) received += Buffer.from(piece as Uint8Array).toString('utf8');
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(received).toBe('data: {"n":1}\n\ndata: {"n":2}\n\n');
  });

  it('hangs on request and reports when the client gives up', async () => {
    mock = await startOpenAIMock();
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = request(`${mock.baseUrl}/v1/models`, { signal: controller.signal }).catch((error: unknown) => error);
    const aborted = mock.whenAborted();
    // Abort only once the mock holds the request, so the abort reaches it.
    await waitForRequest(mock, 1);
    controller.abort();
    await aborted;
    expect(await pending).toBeInstanceOf(Error);
    const models = await request(`${mock.baseUrl}/v1/models`);
    expect(models.statusCode).toBe(200);
    expect((await models.body.json()) as unknown).toMatchObject({ object: 'list' });
  });
});

/** Resolves once the mock recorded `count` requests, polling on the event loop (no timers). */
async function waitForRequest(target: OpenAIMock, count: number): Promise<void> {
  while (target.requests.length < count) await new Promise((resolve) => setImmediate(resolve));
}
