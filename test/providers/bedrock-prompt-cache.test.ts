/**
 * Prompt caching through Bedrock end to end: Anthropic-style `cache_control` markers sent by an Anthropic SDK client
 * to `/v1/messages` reach Claude as written (InvokeModel); translated (the chat-format extension on
 * `/v1/chat/completions`, or a Messages request the translation serves), they reach the Bedrock mock as Converse
 * `cachePoint` blocks, and the cache usage comes back either way.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { claudeInvokeRequests, converseRequests } from './bedrock-support.js';

const bedrockApiKey = 'bedrock-api-key-cache-0001';
const claude = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const cachePoint = { cachePoint: { type: 'default' } };
const manual = 'You answer questions about the station manual. '.repeat(40);

/** A Messages request with cache_control on its system prompt, a tool and a text block. */
const cachedQuestion = {
  max_tokens: 64,
  system: [{ type: 'text' as const, text: manual, cache_control: { type: 'ephemeral' as const } }],
  tools: [{ name: 'lookup', description: 'Looks a page up.', input_schema: { type: 'object' as const, properties: {} }, cache_control: { type: 'ephemeral' as const } }],
  messages: [
    {
      role: 'user' as const,
      content: [
        { type: 'text' as const, text: 'What does page 3 say?', cache_control: { type: 'ephemeral' as const } },
        { type: 'text' as const, text: 'Be brief.' },
      ],
    },
  ],
};

/** Bedrock's reply to a call that read 1024 cached prompt tokens and wrote 512 more to the cache. */
function cachedReply(mock: BedrockMock): void {
  mock.enqueue({
    status: 200,
    body: {
      output: { message: { role: 'assistant', content: [{ text: 'From the cache.' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 20, outputTokens: 5, totalTokens: 1561, cacheReadInputTokens: 1024, cacheWriteInputTokens: 512 },
      metrics: { latencyMs: 9 },
    },
  });
}

describe('Bedrock prompt caching', () => {
  let mock: BedrockMock;
  let tollgate: LiveGateway;
  let keyId: string;

  beforeAll(async () => {
    mock = await startBedrockMock({ credentials: { accessKeyId: 'AKIATOLLGATECACHE001', secretAccessKey: 'bedrock-cache-secret-0001' }, apiKeys: [bedrockApiKey], region: 'us-east-1' });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('bedrock', { network_config: { base_url: mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1 } });
    keyId = await tollgate.addKey('bedrock', { name: 'cache', value: bedrockApiKey });
  });
  afterAll(async () => {
    await tollgate?.dispose();
    await mock?.close();
  });

  it("sends the Anthropic SDK's cache_control to Claude as written, through InvokeModel, and its cache usage back", async () => {
    mock.enqueue({
      status: 200,
      body: {
        id: 'msg_bdrk_01CachedReply000000000000',
        type: 'message',
        role: 'assistant',
        model: 'claude-3-5-haiku-20241022',
        content: [{ type: 'text', text: 'From the cache.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 20, cache_creation_input_tokens: 512, cache_read_input_tokens: 1024, output_tokens: 5 },
      },
    });
    const client = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': keyId } });
    const message = await client.messages.create({ ...cachedQuestion, model: `bedrock/${claude}` });

    const sent = claudeInvokeRequests(mock).at(-1)!.json as Record<string, any>;
    expect(sent).toMatchObject({ system: cachedQuestion.system, tools: cachedQuestion.tools, messages: cachedQuestion.messages });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'From the cache.' });
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 1024, cache_creation_input_tokens: 512 });
  });

  it('turns the cache_control of a translated Messages request (a system turn inside messages) into cache points', async () => {
    cachedReply(mock);
    const client = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': keyId } });
    const { system, ...rest } = cachedQuestion;
    const message = await client.messages.create({
      ...rest,
      model: `bedrock/${claude}`,
      messages: [{ role: 'system', content: system }, ...rest.messages],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming);

    const body = converseRequests(mock).at(-1)!.json as Record<string, any>;
    expect(body.system).toEqual([{ text: manual }, cachePoint]);
    expect(body.toolConfig.tools).toEqual([{ toolSpec: { name: 'lookup', description: 'Looks a page up.', inputSchema: { json: { type: 'object', properties: {} } } } }, cachePoint]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ text: 'What does page 3 say?' }, cachePoint, { text: 'Be brief.' }] }]);

    expect(message.content[0]).toMatchObject({ type: 'text', text: 'From the cache.' });
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 1024, cache_creation_input_tokens: 512 });
  });

  it('turns the cache_control extension of chat content parts into cache points and counts cache reads as cached tokens', async () => {
    cachedReply(mock);
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': keyId } });
    const completion = await client.chat.completions.create({
      model: `bedrock/${claude}`,
      messages: [
        // The OpenAI SDK types do not know the extension; the wire format carries it as any extra field.
        { role: 'system', content: [{ type: 'text', text: manual, cache_control: { type: 'ephemeral', ttl: '1h' } } as OpenAI.ChatCompletionContentPartText] },
        { role: 'user', content: 'What does page 3 say?' },
      ],
    });

    const body = converseRequests(mock).at(-1)!.json as Record<string, any>;
    expect(body.system).toEqual([{ text: manual }, { cachePoint: { type: 'default', ttl: '1h' } }]);
    expect(completion.choices[0]?.message.content).toBe('From the cache.');
    expect(completion.usage).toMatchObject({ prompt_tokens: 20 + 1024 + 512, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 1024 } });
  });
});
