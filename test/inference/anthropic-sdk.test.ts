/**
 * The official `@anthropic-ai/sdk`, pointed at Tollgate's `/v1/messages`, against an OpenAI upstream and an
 * Anthropic upstream: plain and streamed messages, with and without tools. Also the `openai` SDK against the
 * Anthropic upstream, the other direction of the translation.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { readChatStream } from './inference-helpers.js';

const openAIKey = 'sk-upstream-openai-anthropic-sdk-0001';
const anthropicKey = 'sk-ant-upstream-0001';

let openAIMock: OpenAIMock;
let anthropicMock: AnthropicMock;
let tollgate: LiveGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  openAIMock = await startOpenAIMock({ apiKeys: [openAIKey] });
  anthropicMock = await startAnthropicMock({ apiKeys: [anthropicKey] });
  tollgate = await startLiveGateway();
  const fast = { retry_backoff_initial: 0, retry_backoff_max: 1 };
  await tollgate.configureProvider('openai', { network_config: { base_url: openAIMock.baseUrl, ...fast } });
  await tollgate.configureProvider('anthropic', { network_config: { base_url: anthropicMock.baseUrl, ...fast } });
  await tollgate.addKey('openai', { name: 'openai', value: openAIKey });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: anthropicKey });
  anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
});

afterAll(async () => {
  await tollgate.dispose();
  await openAIMock.close();
  await anthropicMock.close();
});

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const upstreams = [
  {
    name: 'an OpenAI upstream',
    model: 'openai/gpt-4o',
    lastBody: () => openAIMock.requests.at(-1)!.body as Record<string, unknown>,
    lastHeaders: () => openAIMock.requests.at(-1)!.headers,
    expectAuth: (headers: Record<string, unknown>) => expect(headers.authorization).toBe(`Bearer ${openAIKey}`),
    upstreamModel: 'gpt-4o',
    // A translated reply names the model as the client asked for it.
    replyModel: 'openai/gpt-4o',
  },
  {
    name: 'an Anthropic upstream',
    model: 'anthropic/claude-sonnet-4-5',
    lastBody: () => anthropicMock.requests.at(-1)!.body as Record<string, unknown>,
    lastHeaders: () => anthropicMock.requests.at(-1)!.headers,
    expectAuth: (headers: Record<string, unknown>) => expect(headers['x-api-key']).toBe(anthropicKey),
    upstreamModel: 'claude-sonnet-4-5',
    // Anthropic's own reply reaches the client as is, naming the model as Anthropic does.
    replyModel: 'claude-sonnet-4-5',
  },
];

describe.each(upstreams)('Anthropic SDK through Tollgate /v1/messages to $name', (upstream) => {
  it('creates a message without streaming', async () => {
    const { data: message, response } = await anthropic.messages
      .create({ model: upstream.model, max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'hello from claude sdk' }] })
      .withResponse();
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(upstream.replyModel);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'hello from claude sdk' })]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-tollgate-provider')).toBe(upstream.model.split('/')[0]);
    const body = upstream.lastBody();
    expect(body.model).toBe(upstream.upstreamModel);
    upstream.expectAuth(upstream.lastHeaders());
  });

  it('streams a message', async () => {
    const stream = anthropic.messages.stream({ model: upstream.model, max_tokens: 256, messages: [{ role: 'user', content: 'stream these four words' }] });
    const eventTypes: string[] = [];
    let text = '';
    stream.on('streamEvent', (event) => eventTypes.push(event.type));
    stream.on('text', (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();
    expect(text).toBe('stream these four words');
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'stream these four words' })]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(eventTypes[0]).toBe('message_start');
    expect(eventTypes.at(-1)).toBe('message_stop');
    expect(upstream.lastBody().stream).toBe(true);
  });

  it('calls a tool without streaming, and takes its result back', async () => {
    const message = await anthropic.messages.create({
      model: upstream.model,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Paris' }],
      tools: [weatherTool],
      tool_choice: { type: 'any' },
    });
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse?.name).toBe('get_weather');
    expect(toolUse?.input).toEqual({ input: 'Paris' });
    expect(toolUse?.id).toBeTruthy();

    const followUp = await anthropic.messages.create({
      model: upstream.model,
      max_tokens: 256,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Paris' },
        { role: 'assistant', content: message.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: 'Sunny, 21 degrees' }] },
      ],
    });
    expect(followUp.stop_reason).toBe('end_turn');
    // Both mocks echo the last user text: for OpenAI that is the last user message, which a tool result is not.
    expect(followUp.content[0]?.type).toBe('text');
    const sent = upstream.lastBody();
    expect(JSON.stringify(sent.messages)).toContain('Sunny, 21 degrees');
    expect(JSON.stringify(sent.messages)).toContain(toolUse!.id);
  });

  it('streams a tool call', async () => {
    const stream = anthropic.messages.stream({
      model: upstream.model,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Lyon' }],
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    let partialJson = '';
    stream.on('inputJson', (delta) => {
      partialJson += delta;
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse?.name).toBe('get_weather');
    expect(toolUse?.input).toEqual({ input: 'Lyon' });
    expect(JSON.parse(partialJson)).toEqual({ input: 'Lyon' });
  });
});

describe('Anthropic SDK through Tollgate: what reaches each upstream', () => {
  it('translates tools to OpenAI functions for an OpenAI upstream', async () => {
    await anthropic.messages.create({
      model: 'openai/gpt-4o',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Rome' }],
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    const body = openAIMock.requests.at(-1)!.body as { tools: unknown; tool_choice: unknown; max_completion_tokens?: number; max_tokens?: number };
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: weatherTool.input_schema } },
    ]);
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(body.max_completion_tokens ?? body.max_tokens).toBe(100);
  });

  it("reaches an OpenAI reasoning model, which refuses max_tokens, with the limit as max_completion_tokens", async () => {
    const message = await anthropic.messages.create({ model: 'openai/o3', max_tokens: 100, messages: [{ role: 'user', content: 'Think' }] });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const body = openAIMock.requests.at(-1)!.body as Record<string, unknown>;
    expect(body.max_completion_tokens).toBe(100);
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('sends Anthropic tools as they were to an Anthropic upstream', async () => {
    await anthropic.messages.create({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Rome' }],
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    const request = anthropicMock.requests.at(-1)!;
    const body = request.body as { tools: unknown; tool_choice: unknown; max_tokens: number };
    expect(body.tools).toEqual([weatherTool]);
    expect(body.tool_choice).toMatchObject({ type: 'tool', name: 'get_weather' });
    expect(body.max_tokens).toBe(100);
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('answers an unknown model with an error the SDK raises as BadRequestError', async () => {
    const error = await anthropic.messages
      .create({ model: 'nowhere/model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/provider\/model/);
  });
});

describe('OpenAI SDK through Tollgate to an Anthropic upstream', () => {
  let openai: OpenAI;
  beforeAll(() => {
    openai = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
  });

  it('completes, streams and calls tools', async () => {
    const completion = await openai.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'bonjour' }] });
    expect(completion.choices[0]!.message.content).toBe('bonjour');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect((anthropicMock.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBeGreaterThan(0);

    const stream = await openai.chat.completions.create({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'stream in french' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, usage } = await readChatStream(stream);
    expect(text).toBe('stream in french');
    expect(usage?.completion_tokens).toBeGreaterThan(0);

    const tools = await openai.chat.completions.create({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Nice' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema as Record<string, unknown> } }],
      tool_choice: 'required',
    });
    expect(tools.choices[0]!.finish_reason).toBe('tool_calls');
    const call = tools.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual({ input: 'Nice' });
    expect((anthropicMock.requests.at(-1)!.body as { tool_choice: unknown }).tool_choice).toMatchObject({ type: 'any' });
  });
});
