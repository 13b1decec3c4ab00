/**
 * `POST /v1/messages/count_tokens`, as the official Anthropic SDK's `messages.countTokens` calls it: counted by
 * Anthropic's own endpoint for Claude models (with the provider key, the model as deployed, the body as sent), and
 * estimated by Tollgate for models whose provider has no counter, or whose host answers that it has none (404, 405),
 * which the answer says. A count uses no model:
 * it needs an API key allowed the model, and takes nothing from its limits.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateMessagesTokens } from '../../src/core/inference/token-estimate.js';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { chatAs, createApiKey } from '../limits/limit-helpers.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { post } from './inference-helpers.js';

const anthropicKey = 'sk-ant-count-0001';
const openAIKey = 'sk-openai-count-0001';

let anthropicMock: AnthropicMock;
let openAIMock: OpenAIMock;
let googleMock: GoogleMock;
let bedrockMock: BedrockMock;
let tollgate: LiveGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  anthropicMock = await startAnthropicMock({ apiKeys: [anthropicKey] });
  openAIMock = await startOpenAIMock({ apiKeys: [openAIKey] });
  googleMock = await startGoogleMock({ apiKeys: ['gemini-count-key'] });
  bedrockMock = await startBedrockMock({ credentials: { accessKeyId: 'AKIACOUNTTOKENS0001', secretAccessKey: 'count-secret' }, region: 'us-east-1' });
  tollgate = await startLiveGateway();
  const fast = { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 };
  await tollgate.configureProvider('anthropic', { network_config: { base_url: anthropicMock.baseUrl, ...fast } });
  await tollgate.configureProvider('openai', { network_config: { base_url: openAIMock.baseUrl, ...fast } });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: anthropicKey });
  await tollgate.addKey('openai', { name: 'openai', value: openAIKey });
  await tollgate.configureProvider('gemini', { network_config: { base_url: googleMock.baseUrl, ...fast } });
  await tollgate.addKey('gemini', { name: 'gemini', value: 'gemini-count-key' });
  await tollgate.configureProvider('bedrock', { network_config: { base_url: bedrockMock.baseUrl, ...fast } });
  await tollgate.addKey('bedrock', {
    name: 'aws',
    value: '',
    bedrock_key_config: { access_key: 'AKIACOUNTTOKENS0001', secret_key: 'count-secret', region: 'us-east-1' },
  });
  anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
});
afterAll(async () => {
  await tollgate.dispose();
  await anthropicMock.close();
  await openAIMock.close();
  await googleMock.close();
  await bedrockMock.close();
});

const question: Anthropic.MessageCountTokensParams = {
  model: 'anthropic/claude-sonnet-4-5',
  system: 'You answer in one word.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What colour is the sky on a clear day?' }] }],
  tools: [{ name: 'lookup', description: 'Looks a word up', input_schema: { type: 'object', properties: { word: { type: 'string' } } } }],
};

describe('POST /v1/messages/count_tokens', () => {
  it("asks Anthropic's own counter for a Claude model, with the provider key and the model as deployed", async () => {
    const before = anthropicMock.requests.length;
    const { data, response } = await anthropic.messages.countTokens(question).withResponse();
    const upstream = anthropicMock.requests.slice(before);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]).toMatchObject({ method: 'POST', path: '/v1/messages/count_tokens' });
    expect(upstream[0]!.headers['x-api-key']).toBe(anthropicKey);
    expect(upstream[0]!.headers['anthropic-version']).toBeDefined();
    expect(upstream[0]!.body).toEqual({ ...question, model: 'claude-sonnet-4-5' });
    // The mock counts one token per four characters of every text it was sent: a count from upstream, not made here.
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(data.input_tokens).not.toBe(await estimateMessagesTokens({ ...question }));
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
    expect(response.headers.get('x-tollgate-provider')).toBe('anthropic');
  });

  it("asks Gemini's countTokens for a Gemini model, with the whole request as generateContent would take it", async () => {
    const before = googleMock.requests.length;
    const { data, response } = await anthropic.messages.countTokens({ ...question, model: 'gemini/gemini-2.5-flash' }).withResponse();
    const upstream = googleMock.requests.slice(before);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]).toMatchObject({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash:countTokens' });
    expect(upstream[0]!.headers['x-goog-api-key']).toBe('gemini-count-key');
    const counted = (upstream[0]!.body as { generateContentRequest: Record<string, any> }).generateContentRequest;
    expect(counted.model).toBe('models/gemini-2.5-flash');
    expect(counted.contents).toEqual([{ role: 'user', parts: [{ text: 'What colour is the sky on a clear day?' }] }]);
    expect(counted.systemInstruction.parts).toEqual([{ text: 'You answer in one word.' }]);
    expect(counted.tools[0].functionDeclarations[0].name).toBe('lookup');
    const text = JSON.stringify(counted.contents) + JSON.stringify(counted.systemInstruction) + JSON.stringify(counted.tools);
    expect(data.input_tokens).toBe(Math.ceil(text.length / 4));
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
    expect(response.headers.get('x-tollgate-provider')).toBe('gemini');
  });

  it("asks Bedrock's CountTokens for an Anthropic model there, by its foundation model id, signed", async () => {
    const before = bedrockMock.requests.length;
    const { data, response } = await anthropic.messages.countTokens({ ...question, model: 'bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0' }).withResponse();
    const upstream = bedrockMock.requests.slice(before);
    expect(upstream).toHaveLength(1);
    // The mock checked the SigV4 signature; an inference profile id would have been refused.
    expect(upstream[0]).toMatchObject({ method: 'POST', operation: 'count-tokens', modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
    expect(String(upstream[0]!.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIACOUNTTOKENS0001\//);
    const converse = (upstream[0]!.json as { input: { converse: Record<string, unknown> } }).input.converse;
    // The tool definitions count too: CountTokens takes Converse's toolConfig (and no inferenceConfig).
    expect(converse).toEqual({
      messages: [{ role: 'user', content: [{ text: 'What colour is the sky on a clear day?' }] }],
      system: [{ text: 'You answer in one word.' }],
      toolConfig: {
        tools: [{ toolSpec: { name: 'lookup', description: 'Looks a word up', inputSchema: { json: { type: 'object', properties: { word: { type: 'string' } } } } } }],
      },
    });
    expect(data.input_tokens).toBe(Math.ceil(JSON.stringify(converse).length / 4));
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
  });

  it("counts a Bedrock conversation with tools: their definitions and the history's tool blocks go to CountTokens", async () => {
    const before = bedrockMock.requests.length;
    const data = await anthropic.messages.countTokens({
      model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0',
      tools: [{ name: 'weather', description: 'The weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Snow, -3 °C' }] },
      ],
    });
    const upstream = bedrockMock.requests.slice(before);
    expect(upstream).toHaveLength(1);
    // Bedrock refuses tool blocks in the history without a toolConfig, which the mock checks as well.
    const converse = (upstream[0]!.json as { input: { converse: Record<string, any> } }).input.converse;
    expect(Object.keys(converse).sort()).toEqual(['messages', 'toolConfig']);
    expect(converse.toolConfig.tools).toEqual([
      { toolSpec: { name: 'weather', description: 'The weather in a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } },
    ]);
    expect(converse.messages).toHaveLength(3);
    expect(data.input_tokens).toBe(Math.ceil(JSON.stringify(converse).length / 4));
  });

  it("estimates a Bedrock model CountTokens does not serve, without calling Bedrock", async () => {
    const before = bedrockMock.requests.length;
    const { response } = await anthropic.messages.countTokens({ ...question, model: 'bedrock/meta.llama3-70b-instruct-v1:0' }).withResponse();
    expect(response.headers.get('x-tollgate-token-count')).toBe('estimated');
    expect(bedrockMock.requests.length - before).toBe(0);
  });

  it('estimates for a model whose provider has no counter, and says so, without calling the provider', async () => {
    const before = openAIMock.requests.length;
    const body = { ...question, model: 'openai/gpt-4o' };
    const { data, response } = await anthropic.messages.countTokens(body).withResponse();
    expect(data).toEqual({ input_tokens: await estimateMessagesTokens({ ...body }) });
    expect(response.headers.get('x-tollgate-token-count')).toBe('estimated');
    expect(openAIMock.requests.length - before).toBe(0);
  });

  it('estimates, and says so, when the host has no counter (an Anthropic-compatible server answering 404 or 405 there)', async () => {
    for (const status of [404, 405]) {
      anthropicMock.enqueue({ status, raw: 'Not Found', contentType: 'text/plain' });
      const before = anthropicMock.requests.length;
      const { data, response } = await anthropic.messages.countTokens(question).withResponse();
      expect(anthropicMock.requests.length - before).toBe(1);
      expect(data).toEqual({ input_tokens: await estimateMessagesTokens({ ...question }) });
      expect(response.headers.get('x-tollgate-token-count')).toBe('estimated');
    }
  });

  it('relays the counter refusing the request in the error shape', async () => {
    anthropicMock.enqueue({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'messages.0.content: Field required' } } });
    const refused = await post(tollgate, '/v1/messages/count_tokens', question);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('messages.0.content: Field required');
    expect(refused.text).not.toContain(anthropicKey);
  });

  it('answers a count that is not a whole non-negative number with a 502, and leaves out fallbacks', async () => {
    anthropicMock.enqueue({ raw: '{"input_tokens":-1}' });
    const before = anthropicMock.requests.length;
    const invalid = await post(tollgate, '/v1/messages/count_tokens', { ...question, fallbacks: ['openai/gpt-4o'] });
    expect(invalid.status).toBe(502);
    expect(invalid.body.error.code).toBe('upstream_invalid_response');
    expect(anthropicMock.requests[before]!.body).not.toHaveProperty('fallbacks');
  });

  it('refuses at the door a body without messages or with an unknown model, before any upstream call', async () => {
    const before = anthropicMock.requests.length;
    const missing = await post(tollgate, '/v1/messages/count_tokens', { model: 'anthropic/claude-sonnet-4-5' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe('messages');
    const unknown = await post(tollgate, '/v1/messages/count_tokens', { ...question, model: 'nowhere/no-model' });
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(unknown.status).toBeLessThan(500);
    expect(anthropicMock.requests.length - before).toBe(0);
  });

  it('needs an API key allowed the model, and takes nothing from its limits', async () => {
    const limited = await createApiKey(tollgate, { consumptionLimit: { requests: 1 }, limitPeriod: 'LIFETIME', models: ['anthropic/claude-sonnet-4-5'] });
    const counted = new Anthropic({ apiKey: limited.secret, baseURL: tollgate.url, maxRetries: 0 });
    for (let index = 0; index < 3; index += 1) expect((await counted.messages.countTokens(question)).input_tokens).toBeGreaterThan(0);
    const refused = await post(tollgate, '/v1/messages/count_tokens', { ...question, model: 'openai/gpt-4o' }, { headers: { authorization: `Bearer ${limited.secret}` } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('model_not_allowed');
    // The one request the key may make is still there after the counts.
    const served = await chatAs(tollgate, limited.secret, { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 });
    expect(served.status).toBe(200);
    const over = await chatAs(tollgate, limited.secret, { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'again' }], max_tokens: 16 });
    expect(over.status).toBe(402);
  });
});
