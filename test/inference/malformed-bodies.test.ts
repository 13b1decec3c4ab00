/**
 * Malformed inference bodies get a 400 naming the field, in the error shape, and never reach a provider; a seeded
 * fuzz of the chat routes (chat completions, Messages, Responses) finds no 5xx. The fields checked are those
 * Tollgate reads, meters or translates (message content and parts, tool calls, tools, Anthropic blocks, Responses
 * items); every other field still passes through, and part or block types Tollgate does not know are forwarded as
 * sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startAzureMock, type AzureMock } from '../mocks/azure-mock.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startCohereMock, type CohereMock } from '../mocks/cohere-mock.js';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { createApiKey } from '../limits/limit-helpers.js';
import { immediateRetries, post, seededRandom } from './inference-helpers.js';

let openaiMock: OpenAIMock;
let anthropicMock: AnthropicMock;
let azureMock: AzureMock;
let googleMock: GoogleMock;
let bedrockMock: BedrockMock;
let cohereMock: CohereMock;
let tollgate: LiveGateway;
/** A client's key with limits: every request is metered (its input bounded, its worst case reserved) as in production. */
let clientHeaders: Record<string, string>;

beforeAll(async () => {
  openaiMock = await startOpenAIMock({ apiKeys: ['sk-openai'] });
  anthropicMock = await startAnthropicMock({ apiKeys: ['sk-ant'] });
  azureMock = await startAzureMock({ apiKeys: ['azure-key'], claude: true });
  googleMock = await startGoogleMock({ apiKeys: ['gemini-key'] });
  cohereMock = await startCohereMock({ apiKeys: ['cohere-key'] });
  bedrockMock = await startBedrockMock({ credentials: { accessKeyId: 'AKIATOLLGATEFUZZ0001', secretAccessKey: 'fuzz-secret' }, apiKeys: ['bedrock-key'], region: 'us-east-1' });
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('openai', { network_config: { base_url: openaiMock.baseUrl, ...immediateRetries } });
  await tollgate.configureProvider('anthropic', { network_config: { base_url: anthropicMock.baseUrl, ...immediateRetries } });
  await tollgate.addKey('openai', { name: 'openai', value: 'sk-openai' });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: 'sk-ant' });
  await tollgate.configureProvider('gemini', { network_config: { base_url: googleMock.baseUrl, ...immediateRetries } });
  await tollgate.addKey('gemini', { name: 'gemini', value: 'gemini-key' });
  await tollgate.configureProvider('bedrock', { network_config: { base_url: bedrockMock.baseUrl, ...immediateRetries } });
  await tollgate.addKey('bedrock', { name: 'bedrock', value: 'bedrock-key' });
  await tollgate.configureProvider('cohere', { network_config: { base_url: cohereMock.baseUrl, ...immediateRetries } });
  await tollgate.addKey('cohere', { name: 'cohere', value: 'cohere-key' });
  // Azure through its v1 API, where a Responses request goes as written; its Claude deployments at /anthropic.
  await tollgate.configureProvider('azure', { network_config: immediateRetries });
  await tollgate.addKey('azure', { name: 'azure', value: 'azure-key', azure_key_config: { endpoint: azureMock.baseUrl, api_version: 'v1' } });
  const { secret } = await createApiKey(tollgate, {
    description: 'malformed bodies',
    consumptionLimit: { usd: 1_000, tokens: 1_000_000_000, requests: 1_000_000 },
    limitPeriod: 'MONTH',
    rateLimits: { rpm: 1_000_000, tpm: 1_000_000_000, maxConcurrent: 100 },
  });
  clientHeaders = { authorization: `Bearer ${secret}`, 'anthropic-version': '2023-06-01' };
});
afterAll(async () => {
  await tollgate.dispose();
  await Promise.all([openaiMock.close(), anthropicMock.close(), azureMock.close(), googleMock.close(), bedrockMock.close(), cohereMock.close()]);
});

const upstreamRequests = () =>
  openaiMock.requests.length + anthropicMock.requests.length + azureMock.requests.length + googleMock.requests.length + bedrockMock.requests.length + cohereMock.requests.length;

/** Sends `body` with the metered key and checks it is refused at the door: a 400 with `error`, and no upstream call. */
async function expectRefusedAtDoor(route: string, body: Record<string, unknown>, error: { code: string; param: string }) {
  const before = upstreamRequests();
  const reply = await post(tollgate, route, body, { headers: clientHeaders });
  expect(reply.status, reply.text).toBe(400);
  expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', ...error });
  expect(upstreamRequests()).toBe(before);
  return reply;
}

const chat = (messages: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'openai/gpt-4o-mini', messages, ...extra });
const assistantCalling = (call: unknown) => ({ role: 'assistant', content: null, tool_calls: [call] });
const goodCall = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } };

const malformedChat: Array<[string, Record<string, unknown>, string]> = [
  ['tool_calls that are not a list', chat([{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: { 0: goodCall } }]), 'messages.1.tool_calls'],
  ['a tool call id that is not a string', chat([{ role: 'user', content: 'hi' }, assistantCalling({ ...goodCall, id: { type: 'text' } })]), 'messages.1.tool_calls.0.id'],
  ['a tool call whose arguments are an object', chat([{ role: 'user', content: 'hi' }, assistantCalling({ ...goodCall, function: { name: 'lookup', arguments: { a: 1 } } })]), 'messages.1.tool_calls.0.function.arguments'],
  ['a tool call without its name', chat([{ role: 'user', content: 'hi' }, assistantCalling({ ...goodCall, function: { arguments: '{}' } })]), 'messages.1.tool_calls.0.function.name'],
  ['a tool_call_id that is a number', chat([{ role: 'tool', tool_call_id: 7, content: 'r' }]), 'messages.0.tool_call_id'],
  ['a name that is a boolean', chat([{ role: 'user', name: true, content: 'hi' }]), 'messages.0.name'],
  ['content that is an object', chat([{ role: 'user', content: { text: 'hi' } }]), 'messages.0.content'],
  // Neither a string nor a list of parts: the content as a whole is named.
  ['a content part that is null', chat([{ role: 'user', content: [null] }]), 'messages.0.content'],
  ['a text part whose text is a number', chat([{ role: 'user', content: [{ type: 'text', text: 42 }] }]), 'messages.0.content.0.text'],
  ['an image part without its url', chat([{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }]), 'messages.0.content.0.image_url.url'],
  ['tools that are an object', chat([{ role: 'user', content: 'hi' }], { tools: { type: 'function' } }), 'tools'],
  ['a function tool whose parameters are a string', chat([{ role: 'user', content: 'hi' }], { tools: [{ type: 'function', function: { name: 'f', parameters: 'object' } }] }), 'tools.0.function.parameters'],
  ['stop that is a number', chat([{ role: 'user', content: 'hi' }], { stop: 5 }), 'stop'],
  ['n that is zero', chat([{ role: 'user', content: 'hi' }], { n: 0 }), 'n'],
  // The ledger records the model as given: a name it could not hold would have to be cut or would fail its write.
  ['a model name longer than the ledger holds', chat([{ role: 'user', content: 'hi' }], { model: `openai/${'m'.repeat(294)}` }), 'model'],
  ['a model name with a NUL character', chat([{ role: 'user', content: 'hi' }], { model: 'openai/gpt-4o\u0000mini' }), 'model'],
  ['a fallback longer than the ledger holds', chat([{ role: 'user', content: 'hi' }], { fallbacks: [`openai/${'m'.repeat(294)}`] }), 'fallbacks.0'],
];

const messages = (turns: unknown[], extra: Record<string, unknown> = {}) => ({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: turns, ...extra });
const malformedMessages: Array<[string, Record<string, unknown>, string]> = [
  ['a content block that is null', messages([{ role: 'user', content: [null] }]), 'messages.0.content'],
  ['content that is missing', messages([{ role: 'user' }]), 'messages.0.content'],
  ['a text block whose text is a boolean', messages([{ role: 'user', content: [{ type: 'text', text: true }] }]), 'messages.0.content.0.text'],
  ['a tool_use id that is an object', messages([{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'tool_use', id: {}, name: 'f', input: {} }] }]), 'messages.1.content.0.id'],
  ['a tool_result without its tool_use_id', messages([{ role: 'user', content: [{ type: 'tool_result', content: 'r' }] }]), 'messages.0.content.0.tool_use_id'],
  ['an image without its source', messages([{ role: 'user', content: [{ type: 'image' }] }]), 'messages.0.content.0.source'],
  ['a base64 source without its data', messages([{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }]), 'messages.0.content.0.source.data'],
  ['a system block whose text is a number', messages([{ role: 'user', content: 'hi' }], { system: [{ type: 'text', text: 1 }] }), 'system.0.text'],
  ['a tool without its name', messages([{ role: 'user', content: 'hi' }], { tools: [{ input_schema: { type: 'object' } }] }), 'tools.0.name'],
  ['a named tool choice without the name', messages([{ role: 'user', content: 'hi' }], { tool_choice: { type: 'tool' } }), 'tool_choice.name'],
  ['stop sequences that are a string', messages([{ role: 'user', content: 'hi' }], { stop_sequences: 'END' }), 'stop_sequences'],
  ['a model name with an unpaired surrogate', messages([{ role: 'user', content: 'hi' }], { model: 'anthropic/claude\ud800' }), 'model'],
];

describe('malformed chat bodies', () => {
  it.each(malformedChat)('refuses %s with a 400 naming the field, before any upstream call', async (_name, body, param) => {
    const reply = await expectRefusedAtDoor('/v1/chat/completions', body, { code: 'invalid_request', param });
    expect(reply.body.error.message).toContain(`"${param}"`);
  });

  it('still forwards what it does not check: unknown part types, custom tool calls, null tool_calls, unknown fields', async () => {
    const body = chat(
      [
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'future_part', payload: { any: ['thing'] } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_2', type: 'custom', custom: { name: 'grep', input: 'x' } }] },
        { role: 'assistant', content: 'ok', tool_calls: null },
        { role: 'user', content: 'go on' },
      ],
      { tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } }, some_new_option: { nested: [1, 2] } },
    );
    const reply = await post(tollgate, '/v1/chat/completions', body, { headers: clientHeaders });
    expect(reply.status, reply.text).toBe(200);
    const forwarded = openaiMock.requests.at(-1)!.body as Record<string, any>;
    expect(forwarded.messages).toEqual(body.messages);
    expect(forwarded.tool_choice).toEqual(body.tool_choice);
    expect(forwarded.some_new_option).toEqual({ nested: [1, 2] });
  });

  it('takes a model name of the longest length the ledger holds, and refuses an embedding model name beyond it', async () => {
    const longest = `openai/${'m'.repeat(293)}`;
    // The gateway's own key: a key with a USD limit refuses a model without a known price before it is sent.
    const reply = await post(tollgate, '/v1/chat/completions', chat([{ role: 'user', content: 'hi' }], { model: longest }));
    expect(reply.status, reply.text).toBe(200);
    expect((openaiMock.requests.at(-1)!.body as Record<string, unknown>).model).toBe('m'.repeat(293));

    await expectRefusedAtDoor('/v1/embeddings', { model: `${longest}m`, input: 'hi' }, { code: 'invalid_request', param: 'model' });
  });
});

describe('what only OpenAI-format upstreams can carry', () => {
  const customCall = { id: 'call_9', type: 'custom', custom: { name: 'grep', input: 'x' } };
  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ['a custom tool call', 'gemini/gemini-2.5-flash', chat([{ role: 'user', content: 'hi' }, assistantCalling(customCall), { role: 'user', content: 'go on' }]), 'messages[1].tool_calls[0]'],
    ['a custom tool call', 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', chat([{ role: 'user', content: 'hi' }, assistantCalling(customCall), { role: 'user', content: 'go on' }]), 'messages[1].tool_calls[0]'],
    ['a custom tool call', 'anthropic/claude-sonnet-4-5', chat([{ role: 'user', content: 'hi' }, assistantCalling(customCall), { role: 'user', content: 'go on' }]), 'messages[1].tool_calls[0]'],
    [
      'an allowed_tools choice',
      'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0',
      chat([{ role: 'user', content: 'hi' }], { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } } }),
      'tool_choice',
    ],
  ];

  it('takes a tool_choice of null as none given, for every kind of upstream', async () => {
    for (const model of ['gemini/gemini-2.5-flash', 'anthropic/claude-sonnet-4-5', 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0']) {
      const body = chat([{ role: 'user', content: 'hi' }], { model, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: null });
      const reply = await post(tollgate, '/v1/chat/completions', { ...body, model }, { headers: clientHeaders });
      expect(reply.status, `${model}: ${reply.text}`).toBe(200);
    }
  });

  it.each(cases)('refuses %s for %s with a 400 naming it, before any upstream call', async (_name, model, body, param) => {
    await expectRefusedAtDoor('/v1/chat/completions', { ...body, model }, { code: 'unsupported_tool', param });
  });
});

describe('malformed Anthropic Messages bodies', () => {
  it.each(malformedMessages)('refuses %s with a 400 naming the field, before any upstream call', async (_name, body, param) => {
    await expectRefusedAtDoor('/v1/messages', body, { code: 'invalid_request', param });
  });
});

describe('a seeded fuzz of the chat routes', () => {
  /** Odd values put in place of a field of a valid body: wrong types, nulls, empty and nested containers. */
  const oddValues: unknown[] = [null, 0, -1, 1.5, 1e308, '', 'x', '\u0000', true, [], [null], [1, 'a', {}], {}, { type: 'text' }, { type: 'image_url' }, { a: { a: { a: 1 } } }, '__proto__', { constructor: 1 }];
  const bases: Record<string, unknown> = {
    '/v1/chat/completions': chat(
      [
        { role: 'system', content: 's' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        assistantCalling(goodCall),
        { role: 'tool', tool_call_id: 'call_1', content: 'r' },
      ],
      { tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }], tool_choice: 'auto', stop: ['END'], max_tokens: 16 },
    ),
    '/v1/messages': messages(
      [
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
        { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'r' }] }] },
      ],
      { system: [{ type: 'text', text: 's' }], tools: [{ name: 'lookup', input_schema: { type: 'object' } }], tool_choice: { type: 'auto' }, stop_sequences: ['END'] },
    ),
    '/v1/embeddings': { model: 'openai/text-embedding-3-small', input: ['first text', 'second text'], encoding_format: 'float' },
  };
  bases['/v1/responses'] = {
    instructions: 's',
    input: [
      { role: 'developer', content: 'd' },
      { role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'calling' }] },
      { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'r' },
    ],
    tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }, { type: 'custom', name: 'grep', description: 'Search' }],
    tool_choice: 'auto',
    text: { format: { type: 'text' } },
    max_output_tokens: 16,
  };
  bases['/v1/responses/input_tokens'] = bases['/v1/responses'];
  // A token count takes the Messages body without max_tokens.
  const { max_tokens: _maxTokens, ...countBase } = bases['/v1/messages'] as Record<string, unknown>;
  bases['/v1/messages/count_tokens'] = countBase;

  /** Every path to a member of `value`, the root excluded. */
  function paths(value: unknown, prefix: string[] = []): string[][] {
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
  }

  // Each route to each kind of upstream: OpenAI's own format, Anthropic's, Gemini's, Bedrock's Converse and Cohere's;
  // embeddings to OpenAI, Gemini, Bedrock and Cohere.
  const chatModels = ['gemini/gemini-2.5-flash', 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', 'cohere/command-a-03-2025'];
  const models: Record<string, string[]> = {
    '/v1/chat/completions': ['openai/gpt-4o-mini', ...chatModels],
    // Azure's Claude deployment takes a Messages request as written too, at the resource's /anthropic/v1/messages.
    '/v1/messages': ['anthropic/claude-sonnet-4-5', ...chatModels, 'azure/claude-sonnet-4-5'],
    '/v1/responses': ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4-5', 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', 'azure/gpt-4o-mini'],
    '/v1/embeddings': ['openai/text-embedding-3-small', 'gemini/gemini-embedding-001', 'bedrock/amazon.titan-embed-text-v2:0', 'cohere/embed-v4.0'],
    // Anthropic's and Gemini's own counters, and the estimate.
    '/v1/messages/count_tokens': ['anthropic/claude-sonnet-4-5', 'gemini/gemini-2.5-flash', 'openai/gpt-4o-mini'],
    '/v1/responses/input_tokens': ['anthropic/claude-sonnet-4-5', 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', 'openai/gpt-4o-mini'],
  };
  const targets = Object.entries(models).flatMap(([route, list]) => list.map((model, index) => [route, model, index] as const));

  it.each(targets)('answers 300 mutations of a valid %s body for %s with no 5xx, each refusal in the error shape', async (route, model, index) => {
    const random = seededRandom(route.length * 10 + index);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const valid = await post(tollgate, route, { ...(bases[route] as Record<string, unknown>), model }, { headers: clientHeaders });
    expect(valid.status, `the unchanged body: ${valid.text}`).toBe(200);
    const statuses = new Map<number, number>();
    for (let round = 0; round < 300; round += 1) {
      const body: Record<string, unknown> = { ...(structuredClone(bases[route]) as Record<string, unknown>), model };
      // A third of the chat bodies ask for a stream, whose errors take another path.
      if ((route === '/v1/chat/completions' || route === '/v1/messages' || route === '/v1/responses') && random() < 1 / 3) body.stream = true;
      for (let change = 0; change < 1 + Math.floor(random() * 3); change += 1) {
        const path = pick(paths(body));
        if (path === undefined) break;
        let parent = body as Record<string, unknown>;
        for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
        if (random() < 0.8) parent[path.at(-1)!] = structuredClone(pick(oddValues));
        else delete parent[path.at(-1)!];
      }
      const reply = await post(tollgate, route, body, { headers: clientHeaders });
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      expect(reply.status, `${JSON.stringify(body)} → ${reply.text}`).toBeLessThan(500);
      if (reply.status >= 400) expect(reply.body?.error?.message, reply.text).toEqual(expect.any(String));
    }
    // Both kinds of answer were exercised: mutations that stay valid, and refusals.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  });
});
