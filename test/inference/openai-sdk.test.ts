import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAIMock } from '../mocks/openai-mock.js';
import type { LiveGateway } from '../support/live-gateway.js';
import { openAIUpstreamKey, readChatStream, startOpenAIThroughGateway, type OpenAIThroughGateway } from './inference-helpers.js';

describe('OpenAI SDK through Tollgate to an OpenAI upstream', () => {
  let setup: OpenAIThroughGateway;
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  let client: OpenAI;

  beforeAll(async () => {
    setup = await startOpenAIThroughGateway();
    ({ mock, tollgate, client } = setup);
  });
  afterAll(async () => {
    await setup.dispose();
  });

  it('completes a chat without streaming', async () => {
    const completion = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hello there' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toContain('hello there');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    const upstream = mock.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.headers.authorization).toBe(`Bearer ${openAIUpstreamKey}`);
    expect((upstream.body as { model: string }).model).toBe('gpt-4o');
  });

  it('streams a chat, with usage only when asked', async () => {
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'stream me' }], stream: true });
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toContain('stream me');
    expect(sawUsage).toBe(false);
    expect((mock.requests.at(-1)!.body as { stream_options: { include_usage: boolean } }).stream_options.include_usage).toBe(true);

    const withUsage = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'count me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { usage } = await readChatStream(withUsage);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('calls tools', async () => {
    const completion = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required',
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('get_weather');
  });

  it('embeds, in float and base64', async () => {
    const floats = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' });
    expect(floats.data).toHaveLength(2);
    expect(typeof floats.data[0]!.embedding[0]).toBe('number');
    // The SDK asks for base64 when the caller does not choose, and decodes it back into floats.
    const decoded = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'a' });
    expect(decoded.data[0]!.embedding).toHaveLength(floats.data[0]!.embedding.length);
    expect(decoded.data[0]!.embedding[0]).toBeCloseTo(floats.data[0]!.embedding[0]!, 5);
  });

  it('lists models as provider/model', async () => {
    const page = await client.models.list();
    const ids = page.data.map((model) => model.id);
    expect(ids).toContain('openai/gpt-4o');
    const model = await client.models.retrieve('openai/gpt-4o');
    expect(model.owned_by).toBe('openai');
  });

  it('answers errors in the gateway shape the SDK understands', async () => {
    const error = await client.chat.completions.create({ model: 'nope/nothing-here', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/provider\/model/);
    const unauthorized = await new OpenAI({ apiKey: 'wrong', baseURL: `${tollgate.url}/v1`, maxRetries: 0 }).models.list().catch((caught: unknown) => caught);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
