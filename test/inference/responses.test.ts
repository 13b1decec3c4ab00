/**
 * `POST /v1/responses` as the official OpenAI SDK calls it (`responses.create`, `responses.stream`): a provider other
 * than OpenAI answers through the canonical chat path (here a custom provider on OpenAI's chat completions, and
 * Anthropic's Messages), the reply is a Response object or its event stream, function tools go round trip, and the
 * API key's limits meter it like any other request. OpenAI itself takes the request as written (here where the
 * translation would differ; test/inference/openai-responses-native.test.ts for the rest). What Tollgate cannot serve
 * (stored responses, hosted tools) is a 400 before any upstream call.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { mockTokenCount, startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { createApiKey, ledgerRowsOf, usageOf } from '../limits/limit-helpers.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const openAIKey = 'sk-openai-responses-0001';
const anthropicKey = 'sk-ant-responses-0001';

let openAIMock: OpenAIMock;
let anthropicMock: AnthropicMock;
let tollgate: LiveGateway;
let client: OpenAI;

beforeAll(async () => {
  openAIMock = await startOpenAIMock({ apiKeys: [openAIKey] });
  anthropicMock = await startAnthropicMock({ apiKeys: [anthropicKey] });
  tollgate = await startLiveGateway();
  const fast = { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 };
  await tollgate.configureProvider('openai', { network_config: { base_url: openAIMock.baseUrl, ...fast } });
  await tollgate.addKey('openai', { name: 'openai', value: openAIKey });
  // A custom provider on OpenAI's adapter speaks chat completions only: the Responses translation is what it gets.
  const local = await tollgate.request({
    method: 'POST',
    url: '/api/providers',
    body: { provider: 'local', custom_provider_config: { base_provider_type: 'openai' }, network_config: { base_url: openAIMock.baseUrl, ...fast } },
  });
  expect(local.status).toBe(201);
  await tollgate.addKey('local', { name: 'local', value: openAIKey });
  await tollgate.configureProvider('anthropic', { network_config: { base_url: anthropicMock.baseUrl, ...fast } });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: anthropicKey });
  client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await tollgate?.dispose();
  await openAIMock?.close();
  await anthropicMock?.close();
});

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

describe('/v1/responses through the OpenAI SDK', () => {
  it('answers a text input with a Response, the instructions sent as the system message', async () => {
    const before = openAIMock.requests.length;
    const response = await client.responses.create({ model: 'local/gpt-4o', instructions: 'Answer briefly.', input: 'hello there' });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.model).toBe('local/gpt-4o');
    expect(response.output_text).toContain('hello there');
    expect(response.instructions).toBe('Answer briefly.');
    const sent = openAIMock.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/v1/chat/completions');
    expect(sent[0]!.body).toMatchObject({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'hello there' },
      ],
    });
    const promptTokens = mockTokenCount('Answer briefly.') + mockTokenCount('hello there');
    expect(response.usage).toMatchObject({ input_tokens: promptTokens, total_tokens: promptTokens + response.usage!.output_tokens });
    expect(response.usage!.output_tokens).toBeGreaterThan(0);
  });

  it('streams the answer as Response events the SDK assembles, usage in response.completed', async () => {
    const stream = client.responses.stream({ model: 'local/gpt-4o', input: [{ role: 'user', content: 'stream me please' }] });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(response.output_text);
    expect(response.output_text).toContain('stream me please');
    expect(response.status).toBe('completed');
    expect(response.usage?.input_tokens).toBe(mockTokenCount('stream me please'));
    // The Response stream always ends with usage, so Tollgate asks the upstream for it.
    expect((openAIMock.requests.at(-1)!.body as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
  });

  it('calls a function tool, and takes its output back as the next turn', async () => {
    const first = await client.responses.create({ model: 'local/gpt-4o', input: 'Weather in Oslo?', tools: [weatherTool], tool_choice: 'required' });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(JSON.parse(call.arguments)).toEqual({ input: 'Weather in Oslo?' });
    const sentTools = (openAIMock.requests.at(-1)!.body as { tools: unknown }).tools;
    expect(sentTools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.parameters, strict: false } }]);

    const second = await client.responses.create({
      model: 'local/gpt-4o',
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: 'Snow, -3 °C' },
      ],
    });
    expect(second.status).toBe('completed');
    const messages = (openAIMock.requests.at(-1)!.body as { messages: unknown[] }).messages;
    expect(messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.call_id, content: 'Snow, -3 °C' },
    ]);
  });

  it("calls OpenAI's custom tools, streamed and not; a model that cannot call one is not offered it", async () => {
    const applyPatch = { type: 'custom' as const, name: 'apply_patch', description: 'Edit files' };
    const call = { id: 'call_patch', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } };
    openAIMock.enqueue({
      status: 200,
      body: {
        id: 'chatcmpl-custom',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-5',
        choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
      },
    });
    const response = await client.responses.create({ model: 'local/gpt-5', input: 'Fix it', tools: [applyPatch] });
    expect((openAIMock.requests.at(-1)!.body as { tools: unknown }).tools).toEqual([{ type: 'custom', custom: { name: 'apply_patch', description: 'Edit files' } }]);
    expect(response.output).toEqual([{ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_/), call_id: 'call_patch', name: 'apply_patch', input: '*** Begin Patch' }]);

    const fragment = (custom: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      id: 'chatcmpl-custom-stream',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-5',
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...extra, custom }] }, finish_reason: null }],
    });
    openAIMock.enqueue({
      streamChunks: [
        fragment({ name: 'apply_patch', input: '' }, { id: 'call_patch', type: 'custom' }),
        fragment({ input: '*** Begin ' }),
        fragment({ input: 'Patch' }),
        { id: 'chatcmpl-custom-stream', object: 'chat.completion.chunk', created: 1, model: 'gpt-5', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
        { id: 'chatcmpl-custom-stream', object: 'chat.completion.chunk', created: 1, model: 'gpt-5', choices: [], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } },
      ],
    });
    const streamed = await client.responses.stream({ model: 'local/gpt-5', input: 'Fix it', tools: [applyPatch] }).finalResponse();
    expect(streamed.output).toEqual([{ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_/), call_id: 'call_patch', name: 'apply_patch', input: '*** Begin Patch' }]);
    expect(streamed.usage?.output_tokens).toBe(5);

    // As on the chat route: providers whose formats carry only function tools are offered the function tools alone.
    await client.responses.create({ model: 'anthropic/claude-sonnet-4-5', input: 'Fix it', tools: [applyPatch, weatherTool] });
    expect((anthropicMock.requests.at(-1)!.body as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name)).toEqual(['get_weather']);
    // A custom tool call in the history is a 400 there: it cannot be said in their formats.
    const refused = await client.responses
      .create({
        model: 'anthropic/claude-sonnet-4-5',
        tools: [applyPatch],
        input: [
          { role: 'user', content: 'Fix it' },
          { type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: '*** Begin Patch' },
          { type: 'custom_tool_call_output', call_id: 'call_patch', output: 'Done' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'unsupported_tool' });
  });

  it('reaches a Claude model through the Anthropic translation, streamed and not', async () => {
    const response = await client.responses.create({ model: 'anthropic/claude-sonnet-4-5', instructions: 'Be terse.', input: 'hello claude', max_output_tokens: 200 });
    expect(response.output_text.length).toBeGreaterThan(0);
    const sent = anthropicMock.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.body).toMatchObject({ system: 'Be terse.', max_tokens: 200, messages: [{ role: 'user', content: 'hello claude' }] });
    expect(response.usage?.input_tokens).toBeGreaterThan(0);

    const streamed = await client.responses.stream({ model: 'anthropic/claude-sonnet-4-5', input: 'stream, claude' }).finalResponse();
    expect(streamed.output_text.length).toBeGreaterThan(0);
    expect(streamed.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('marks a reply cut at max_output_tokens incomplete', async () => {
    const response = await client.responses.create({ model: 'local/gpt-4o', input: 'a fairly long question that the mock will echo back at length', max_output_tokens: 4 });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output.at(-1)).toMatchObject({ type: 'message', status: 'incomplete' });
    expect((openAIMock.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(4);
  });

  it("sends OpenAI's reasoning model the request as written, its limit under the Responses name", async () => {
    const response = await client.responses.create({ model: 'openai/o3', input: 'a fairly long question that the mock will echo back at length', max_output_tokens: 4 });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output.at(-1)).toMatchObject({ type: 'message', status: 'incomplete' });
    expect(openAIMock.requests.at(-1)!.path).toBe('/v1/responses');
    expect((openAIMock.requests.at(-1)!.body as { max_output_tokens: number }).max_output_tokens).toBe(4);
  });
});

describe('/v1/responses/input_tokens', () => {
  it("counts with a Claude model's own counter, the instructions as its system prompt and the tools as Claude's", async () => {
    const before = anthropicMock.requests.length;
    const { data, response } = await client.responses.inputTokens
      .count({ model: 'anthropic/claude-sonnet-4-5', instructions: 'Be terse.', input: 'How long is this?', tools: [weatherTool] })
      .withResponse();
    expect(data.object).toBe('response.input_tokens');
    expect(data.input_tokens).toBeGreaterThan(0);
    const sent = anthropicMock.requests.slice(before);
    expect(sent.map((request) => request.path)).toEqual(['/v1/messages/count_tokens']);
    // The mock refuses max_tokens on a count, as Anthropic does.
    expect(sent[0]!.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      system: 'Be terse.',
      messages: [{ role: 'user', content: 'How long is this?' }],
      tools: [{ name: 'get_weather', description: 'The weather in a city', input_schema: weatherTool.parameters }],
    });
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
  });

  it('estimates for a model whose provider has no counter, without calling it', async () => {
    const before = openAIMock.requests.length;
    // A custom provider on OpenAI's adapter: its server may have no counter (OpenAI's own counts: see the native tests).
    const { data, response } = await client.responses.inputTokens.count({ model: 'local/gpt-4o', input: 'How long is this?' }).withResponse();
    expect(data).toEqual({ object: 'response.input_tokens', input_tokens: expect.any(Number) });
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-tollgate-token-count')).toBe('estimated');
    expect(openAIMock.requests.length).toBe(before);
  });

  it('refuses what the Responses route refuses, before any count', async () => {
    const error = await client.responses.inputTokens.count({ model: 'openai/gpt-4o', input: 'x', previous_response_id: 'resp_1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'previous_response_id' });
  });
});

describe('/v1/responses refusals', () => {
  const refused = async (body: Record<string, unknown>) => {
    const before = openAIMock.requests.length;
    const error = await client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming).catch((caught: unknown) => caught);
    expect(openAIMock.requests.length).toBe(before);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    return (error as InstanceType<typeof OpenAI.BadRequestError>).error as { param?: string; code?: string; message: string };
  };

  it('refuses previous_response_id: Tollgate keeps no responses', async () => {
    const error = await refused({ model: 'openai/gpt-4o', input: 'and then?', previous_response_id: 'resp_123' });
    expect(error).toMatchObject({ param: 'previous_response_id', code: 'unsupported_parameter' });
  });

  it('refuses hosted tools, which run (and cost) upstream beyond what a reservation can bound', async () => {
    const error = await refused({ model: 'openai/gpt-4o', input: 'news?', tools: [{ type: 'web_search' }] });
    expect(error).toMatchObject({ code: 'unsupported_tool' });
    expect(error.param).toMatch(/^tools/);
  });

  it('answers retrieve, delete, cancel and input-item listing with a 404 saying no response is kept', async () => {
    for (const attempt of [
      () => client.responses.retrieve('resp_abc'),
      () => client.responses.delete('resp_abc'),
      () => client.responses.cancel('resp_abc'),
      () => client.responses.inputItems.list('resp_abc'),
    ]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ code: 'response_not_found' });
      expect((error as Error).message).toContain("no response 'resp_abc'");
    }
    // Like every inference route, it answers no one without a key.
    const anonymous = await fetch(`${tollgate.url}/v1/responses/resp_abc`);
    expect(anonymous.status).toBe(401);
  });

  it('refuses a malformed body with a 400 naming the field', async () => {
    const error = await refused({ model: 'openai/gpt-4o', input: 42 });
    expect(error.param).toMatch(/^input/);
    const missing = await refused({ model: 'openai/gpt-4o', input: [{ type: 'function_call_output', output: 'no call id' }] });
    expect(missing.param).toMatch(/^input/);
  });
});

describe('/v1/responses under an API key', () => {
  it('is metered and limited like any request: the ledger names the route, a spent key is refused', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 1 }, limitPeriod: 'LIFETIME' });
    const keyed = new OpenAI({ apiKey: key.secret, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const response = await keyed.responses.create({ model: 'openai/gpt-4o', input: 'metered' });
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ request_type: 'responses', status: 200 });
    expect(Number(rows[0]!.input_tokens)).toBe(response.usage!.input_tokens);
    expect(Number(rows[0]!.output_tokens)).toBe(response.usage!.output_tokens);
    expect((await usageOf(tollgate, key.id)).window.spent.requests).toBe(1);

    const second = await keyed.responses.create({ model: 'openai/gpt-4o', input: 'over the limit' }).catch((caught: unknown) => caught);
    expect(second).toBeInstanceOf(OpenAI.APIError);
    expect((second as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
  });
});
