import OpenAI from 'openai';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { MOCK_CREATED, mockEmbedding, mockTokenCount, startOpenAIMock, type OpenAIMock } from './openai-mock.js';

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

describe('startOpenAIMock /v1/responses', () => {
  const textDefaults = { format: { type: 'text' }, verbosity: 'medium' };

  it('answers a Response object in OpenAI field order, echoing the last user text, with deterministic usage', async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-good-key-123456'] });
    const input = [
      { role: 'user', content: [{ type: 'input_text', text: 'What is up?' }] },
      { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello there, ' }, { type: 'input_text', text: 'mock!' }] },
    ];
    const reply = await post(
      `${mock.baseUrl}/v1/responses`,
      { model: 'gpt-4.1', instructions: 'Be brief.', input, metadata: { run: '1' } },
      { authorization: 'Bearer sk-good-key-123456' },
    );
    expect(reply.status).toBe(200);
    expect(reply.headers['x-request-id']).toBe('req_00000000000000000000000000000001');
    const body = JSON.parse(reply.text);
    expect(Object.keys(body)).toEqual([
      'id', 'object', 'created_at', 'status', 'error', 'incomplete_details', 'instructions', 'max_output_tokens', 'model',
      'output', 'parallel_tool_calls', 'previous_response_id', 'reasoning', 'store', 'temperature', 'text', 'tool_choice',
      'tools', 'top_p', 'truncation', 'usage', 'user', 'metadata',
    ]);
    const inputTokens = ['Be brief.', 'What is up?', '{}', 'sunny', 'Hello there, mock!'].reduce((sum, text) => sum + mockTokenCount(text), 0);
    const outputTokens = mockTokenCount('Hello there, mock!');
    expect(body).toEqual({
      id: 'resp_00000000000000000000000000000001',
      object: 'response',
      created_at: MOCK_CREATED,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      max_output_tokens: null,
      model: 'gpt-4.1-2025-04-14',
      output: [
        {
          id: 'msg_00000000000000000000000000000001',
          type: 'message',
          status: 'completed',
          content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello there, mock!' }],
          role: 'assistant',
        },
      ],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: true,
      temperature: 1,
      text: textDefaults,
      tool_choice: 'auto',
      tools: [],
      top_p: 1,
      truncation: 'disabled',
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
      user: null,
      metadata: { run: '1' },
    });
  });

  it('keeps a dated model and echoes the sampling and storage settings', async () => {
    mock = await startOpenAIMock();
    const reply = await post(`${mock.baseUrl}/v1/responses`, {
      model: 'gpt-4.1-2025-04-14',
      input: 'hi',
      temperature: 0.2,
      top_p: 0.5,
      store: false,
      parallel_tool_calls: false,
      truncation: 'auto',
      max_output_tokens: 100,
      text: { verbosity: 'low' },
      user: 'user-1',
    });
    expect(JSON.parse(reply.text)).toMatchObject({
      model: 'gpt-4.1-2025-04-14',
      temperature: 0.2,
      top_p: 0.5,
      store: false,
      parallel_tool_calls: false,
      truncation: 'auto',
      max_output_tokens: 100,
      text: { format: { type: 'text' }, verbosity: 'low' },
      user: 'user-1',
      status: 'completed',
    });
  });

  it('puts a reasoning item first, with a summary when asked and encrypted content only when included', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/responses`;
    const included = JSON.parse(
      (await post(url, { model: 'o4-mini', input: 'why?', reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'] })).text,
    );
    expect(included.model).toBe('o4-mini-2025-04-14');
    expect(included.reasoning).toEqual({ effort: 'low', summary: 'auto' });
    expect(included.output.map((item: { type: string }) => item.type)).toEqual(['reasoning', 'message']);
    expect(included.output[0]).toEqual({
      id: 'rs_00000000000000000000000000000001',
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: 'Thinking about: why?' }],
      encrypted_content: expect.stringMatching(/^gAAAAAB[A-Za-z0-9_-]+$/),
    });
    expect(included.usage).toMatchObject({ output_tokens: mockTokenCount('why?') + 8, output_tokens_details: { reasoning_tokens: 8 } });

    const plain = JSON.parse((await post(url, { model: 'gpt-5', input: 'why?' })).text);
    expect(plain.output[0]).toEqual({ id: 'rs_00000000000000000000000000000002', type: 'reasoning', summary: [] });
    expect(plain.reasoning).toEqual({ effort: null, summary: null });
    const again = JSON.parse((await post(url, { model: 'o4-mini', input: 'why?', reasoning: { summary: 'auto' }, include: ['reasoning.encrypted_content'] })).text);
    expect(again.output[0].encrypted_content).not.toBe(included.output[0].encrypted_content);

    const none = JSON.parse((await post(url, { model: 'gpt-4o-mini', input: 'why?' })).text);
    expect(none.output.map((item: { type: string }) => item.type)).toEqual(['message']);
    expect(none.usage.output_tokens_details.reasoning_tokens).toBe(0);
  });

  it('calls the named function, or the first one when a tool is required', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/responses`;
    const tools = [
      { type: 'function', name: 'first', parameters: { type: 'object' }, strict: false },
      { type: 'function', name: 'lookup', parameters: { type: 'object' }, strict: false },
    ];
    const named = JSON.parse((await post(url, { model: 'gpt-4o-mini', input: 'find cats', tools, tool_choice: { type: 'function', name: 'lookup' } })).text);
    const argumentsText = JSON.stringify({ input: 'find cats' });
    expect(named.output).toEqual([
      {
        id: 'fc_00000000000000000000000000000001',
        type: 'function_call',
        status: 'completed',
        arguments: argumentsText,
        call_id: 'call_000000000000000000000001',
        name: 'lookup',
      },
    ]);
    expect(named.tools).toEqual(tools);
    expect(named.tool_choice).toEqual({ type: 'function', name: 'lookup' });
    expect(named.usage.output_tokens).toBe(mockTokenCount(argumentsText));
    const required = JSON.parse((await post(url, { model: 'gpt-4o-mini', input: 'find dogs', tools, tool_choice: 'required' })).text);
    expect(required.output[0]).toMatchObject({ type: 'function_call', name: 'first', arguments: '{"input":"find dogs"}' });
    const auto = JSON.parse((await post(url, { model: 'gpt-4o-mini', input: 'find dogs', tools })).text);
    expect(auto.output[0].type).toBe('message');
  });

  it('cuts the reply at max_output_tokens and marks the response incomplete', async () => {
    mock = await startOpenAIMock();
    const reply = JSON.parse((await post(`${mock.baseUrl}/v1/responses`, { model: 'gpt-4o-mini', input: 'one two three four five six', max_output_tokens: 2 })).text);
    expect(reply.status).toBe('incomplete');
    expect(reply.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(reply.max_output_tokens).toBe(2);
    expect(reply.output[0]).toMatchObject({ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: 'one two ' }] });
    expect(reply.usage.output_tokens).toBe(2);
  });

  it('refuses unknown parameters, a missing model or input, a wrong input type and stray stream_options', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/responses`;
    const refusal = async (body: unknown) => {
      const reply = await post(url, body);
      expect(reply.status).toBe(400);
      expect(reply.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
      return JSON.parse(reply.text).error;
    };
    expect(await refusal({ model: 'gpt-4o-mini', input: 'x', fallbacks: ['gpt-4o'] })).toEqual({
      message: "Unknown parameter: 'fallbacks'.",
      type: 'invalid_request_error',
      param: 'fallbacks',
      code: 'unknown_parameter',
    });
    expect(await refusal({ input: 'x' })).toMatchObject({ param: 'model', code: 'missing_required_parameter' });
    expect(await refusal({ model: '', input: 'x' })).toMatchObject({ param: 'model', type: 'invalid_request_error' });
    expect(await refusal({ model: 'gpt-4o-mini' })).toMatchObject({ message: "Missing required parameter: 'input'.", param: 'input' });
    expect(await refusal({ model: 'gpt-4o-mini', input: { role: 'user' } })).toMatchObject({ param: 'input', code: 'invalid_type' });
    expect(await refusal({ model: 'gpt-4o-mini', input: 'x', stream_options: { include_obfuscation: false } })).toMatchObject({
      param: 'stream_options',
      type: 'invalid_request_error',
    });
    expect(mock.requests).toHaveLength(6);
  });

  it('answers 404 to a reasoning item without encrypted content when store is false', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/responses`;
    const input = [
      { role: 'user', content: 'first' },
      { type: 'reasoning', id: 'rs_abc123', summary: [] },
      { role: 'user', content: 'second' },
    ];
    const lost = await post(url, { model: 'o4-mini', input, store: false });
    expect(lost.status).toBe(404);
    expect(JSON.parse(lost.text)).toEqual({
      error: {
        message:
          "Item with id 'rs_abc123' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input.",
        type: 'invalid_request_error',
        param: 'input',
        code: null,
      },
    });
    const stored = await post(url, { model: 'o4-mini', input });
    expect(stored.status).toBe(200);
    expect(JSON.parse(stored.text).output.at(-1).content[0].text).toBe('second');
    const encrypted = input.map((item) => ('type' in item ? { ...item, encrypted_content: 'gAAAAABxyz' } : item));
    expect((await post(url, { model: 'o4-mini', input: encrypted, store: false })).status).toBe(200);
  });

  it('streams numbered events from response.created to response.completed, without [DONE]', async () => {
    mock = await startOpenAIMock();
    const reply = await post(`${mock.baseUrl}/v1/responses`, {
      model: 'gpt-5',
      input: 'one two three',
      instructions: 'Be brief.',
      reasoning: { summary: 'auto' },
      stream: true,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(reply.headers['x-request-id']).toBe('req_00000000000000000000000000000001');
    expect(reply.text).not.toContain('[DONE]');
    const events = parseEventStream(reply.text);
    expect(events.every(({ event, data }) => event === data.type)).toBe(true);
    expect(events.map(({ data }) => data.sequence_number)).toEqual(events.map((_, index) => index));
    expect(events.map(({ event }) => event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      ...Array<string>(5).fill('response.reasoning_summary_text.delta'),
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const [created, inProgress] = events;
    expect(created?.data.response).toMatchObject({ status: 'in_progress', output: [], usage: null, incomplete_details: null, model: 'gpt-5-2025-04-14' });
    expect(inProgress?.data.response).toEqual(created?.data.response);
    const textDeltas = events.filter(({ event }) => event === 'response.output_text.delta');
    expect(textDeltas.map(({ data }) => data.delta)).toEqual(['one ', 'two ', 'three']);
    expect(textDeltas[0]?.data).toMatchObject({ item_id: 'msg_00000000000000000000000000000001', output_index: 1, content_index: 0, logprobs: [] });
    const summary = events.filter(({ event }) => event === 'response.reasoning_summary_text.delta').map(({ data }) => data.delta).join('');
    expect(summary).toBe('Thinking about: one two three');
    expect(events.find(({ event }) => event === 'response.output_text.done')?.data.text).toBe('one two three');
    const added = events.filter(({ event }) => event === 'response.output_item.added').map(({ data }) => data.item);
    expect(added[1]).toEqual({ id: 'msg_00000000000000000000000000000001', type: 'message', status: 'in_progress', content: [], role: 'assistant' });

    const last = events.at(-1)?.data.response;
    const nonStreamed = JSON.parse(
      (await post(`${mock.baseUrl}/v1/responses`, { model: 'gpt-5', input: 'one two three', instructions: 'Be brief.', reasoning: { summary: 'auto' } })).text,
    );
    // The same answer but for the ids, which follow the request counter.
    expect(JSON.stringify(last).replaceAll('01"', '02"')).toBe(JSON.stringify(nonStreamed));
    expect(last.status).toBe('completed');
    const inputTokens = mockTokenCount('Be brief.') + mockTokenCount('one two three');
    expect(last.usage).toEqual({
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: mockTokenCount('one two three') + 8,
      output_tokens_details: { reasoning_tokens: 8 },
      total_tokens: inputTokens + mockTokenCount('one two three') + 8,
    });
  });

  it('streams a function call and ends a cut reply with response.incomplete', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/responses`;
    const tools = [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }];
    const call = parseEventStream((await post(url, { model: 'gpt-4o-mini', input: 'find cats', tools, tool_choice: 'required', stream: true })).text);
    expect(call.map(({ event }) => event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(call[2]?.data.item).toMatchObject({ type: 'function_call', status: 'in_progress', arguments: '', name: 'lookup' });
    expect(call[3]?.data).toMatchObject({ item_id: 'fc_00000000000000000000000000000001', output_index: 0, delta: '{"input":"find cats"}' });
    expect(call[4]?.data).toMatchObject({ name: 'lookup', arguments: '{"input":"find cats"}' });

    const cut = parseEventStream((await post(url, { model: 'gpt-4o-mini', input: 'one two three four', max_output_tokens: 2, stream: true })).text);
    const last = cut.at(-1);
    expect(last?.event).toBe('response.incomplete');
    expect(last?.data.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { output_tokens: 2 } });
    expect(cut.filter(({ event }) => event === 'response.output_text.delta').map(({ data }) => data.delta).join('')).toBe('one two ');
  });

  it('applies enqueued behaviours to /v1/responses: canned, raw, scripted events and hang', async () => {
    mock = await startOpenAIMock();
    const url = `${mock.baseUrl}/v1/responses`;
    const body = { model: 'gpt-4o-mini', input: 'x' };
    const limited = { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    mock.enqueue({ status: 429, body: limited, headers: { 'retry-after-ms': '250' } });
    mock.enqueue({ raw: '{"id":"resp_', cut: true });
    mock.enqueue({ streamChunks: [{ type: 'response.created', sequence_number: 0 }, 'not json'] });
    const first = await post(url, body);
    expect(first.status).toBe(429);
    expect(first.headers['retry-after-ms']).toBe('250');
    expect(first.headers['x-request-id']).toBe('req_00000000000000000000000000000001');
    expect(JSON.parse(first.text)).toEqual(limited);
    const raw = await post(url, body).catch((error: unknown) => error);
    expect(raw).toBeInstanceOf(Error);
    const scripted = await post(url, { ...body, stream: true });
    expect(scripted.text).toBe('event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\ndata: not json\n\n');

    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal }).catch(
      (error: unknown) => error,
    );
    const aborted = mock.whenAborted();
    await waitForRequest(mock, 4);
    controller.abort();
    await aborted;
    expect(await pending).toBeInstanceOf(Error);
    expect((await post(url, body)).status).toBe(200);
  });

  it('is read by the official SDK: create, create with stream and responses.stream', async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-good-key-123456'] });
    const client = new OpenAI({ apiKey: 'sk-good-key-123456', baseURL: `${mock.baseUrl}/v1`, maxRetries: 0 });
    const created = await client.responses.create({ model: 'gpt-4o-mini', instructions: 'Be brief.', input: 'Hello there, mock!' });
    expect(created.output_text).toBe('Hello there, mock!');
    expect(created.usage?.output_tokens).toBe(mockTokenCount('Hello there, mock!'));
    expect(created._request_id).toMatch(/^req_[0-9a-f]{32}$/);

    const streamed = await client.responses.create({ model: 'o4-mini', input: [{ role: 'user', content: 'one two' }], stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of streamed) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe('one two');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');

    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'three four five', reasoning: { effort: 'low', summary: 'auto' } });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('three four five');
    expect(final.output_text).toBe('three four five');
    expect(final.status).toBe('completed');
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking about: three four five' }] });
    expect(final.usage?.output_tokens_details.reasoning_tokens).toBe(8);

    const refused = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', fallbacks: ['m'] } as never).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unknown_parameter');
  });
});

/** The events of a Responses stream: each `event:` name with its parsed `data:`. */
function parseEventStream(text: string): Array<{ event: string | undefined; data: Record<string, any> }> {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)).join('\n');
      return { event, data: JSON.parse(data) as Record<string, any> };
    });
}

/** Resolves once the mock recorded `count` requests, polling on the event loop (no timers). */
async function waitForRequest(target: OpenAIMock, count: number): Promise<void> {
  while (target.requests.length < count) await new Promise((resolve) => setImmediate(resolve));
}
