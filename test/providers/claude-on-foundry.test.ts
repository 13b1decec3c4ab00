/**
 * Claude in Microsoft Foundry, as an operator configures it: a custom provider on the `anthropic` adapter whose base
 * URL is the resource's Anthropic endpoint (`https://<resource>.services.ai.azure.com/anthropic`) and whose key is the
 * resource's API key. Foundry serves Anthropic's Messages API under `/anthropic`, so the Messages route goes to it as
 * written (a custom provider on Anthropic's adapter takes native requests as Anthropic's own does), count_tokens goes
 * to its counter as to Anthropic's, and the other routes are translated to Messages. The mock serves Anthropic's API under that
 * prefix only and checks `x-api-key` and `anthropic-version` as Foundry does.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockTokenCount, startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const foundryKey = 'foundry-resource-key-0001';

let mock: AnthropicMock;
let tollgate: LiveGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  mock = await startAnthropicMock({ apiKeys: [foundryKey], pathPrefix: '/anthropic' });
  tollgate = await startLiveGateway();
  const created = await tollgate.request({ method: 'POST', url: '/api/providers', body: { provider: 'foundry', custom_provider_config: { base_provider_type: 'anthropic' } } });
  expect(created.status, created.text).toBe(201);
  await tollgate.configureProvider('foundry', { network_config: { base_url: `${mock.baseUrl}/anthropic`, max_retries: 0 } });
  await tollgate.addKey('foundry', { name: 'contoso', value: foundryKey });
  anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

describe('Claude in Microsoft Foundry, through a custom provider on the anthropic adapter', () => {
  it("sends a Messages request as written to the resource's /anthropic/v1/messages, with its key", async () => {
    const { data: message, response } = await anthropic.messages
      .create({ model: 'foundry/claude-sonnet-4-5', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello Foundry' }] })
      .withResponse();
    const sent = mock.requests.at(-1)!;
    expect(sent.path).toBe('/anthropic/v1/messages');
    expect(sent.headers['x-api-key']).toBe(foundryKey);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.body).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello Foundry' }] });
    // The message as the upstream wrote it: its own id and request id.
    expect(message.id).toMatch(/^msg_/);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello Foundry' }]);
    expect(response.headers.get('request-id')).toMatch(/^req_mock/);
    expect(response.headers.get('x-tollgate-provider')).toBe('foundry');
  });

  it('streams, and counts tokens with the upstream’s own counter', async () => {
    const stream = anthropic.messages.stream({ model: 'foundry/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'streamed through Foundry' }] });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'streamed through Foundry' }]);
    expect(mock.requests.at(-1)!.body).toMatchObject({ stream: true });

    const { data: count, response } = await anthropic.messages
      .countTokens({ model: 'foundry/claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me' }] })
      .withResponse();
    expect(mock.requests.at(-1)!.path).toBe('/anthropic/v1/messages/count_tokens');
    expect(count.input_tokens).toBe(mockTokenCount('count me'));
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
  });

  it("translates the OpenAI SDK's chat completions to Foundry's Messages API", async () => {
    const openai = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'foundry/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'from OpenAI' }] });
    expect(completion.choices[0]!.message.content).toBe('from OpenAI');
    expect(mock.requests.at(-1)!.path).toBe('/anthropic/v1/messages');
  });

  it('reaches nothing without the /anthropic path in the base URL, as Foundry answers', async () => {
    const reply = await fetch(`${mock.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': foundryKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(reply.status).toBe(404);
  });
});
