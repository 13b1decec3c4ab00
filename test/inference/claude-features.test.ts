/**
 * Claude-only features of a Messages request through Tollgate, which the canonical chat form has no place for.
 *
 * Beta features: a client turns one on with `anthropic-beta` (the Anthropic SDK's
 * `betas`; Claude Code sends several on every request), and Tollgate carries the names to Claude upstreams as each
 * expects them: the header for Anthropic (merged with an operator's configured one), `anthropic_beta` in the
 * Converse body for Bedrock, and to their token counters. Non-Claude upstreams never see them. OpenAI-SDK clients
 * may send the list as the chat body's `anthropic_beta` extension.
 *
 * Request members: top-level `cache_control`, `context_management` and `output_config.effort` reach Claude
 * upstreams (Bedrock: in additionalModelRequestFields); members that would change the price beyond what Tollgate
 * meters (`service_tier`, `speed`, `inference_geo`) or run tools upstream (`container`, `mcp_servers`) do not.
 *
 * A failed tool result's `is_error` reaches Claude as the flag (Bedrock: the toolResult's error status), and
 * other models as text.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const anthropicKey = 'sk-ant-beta-0001';
const openAIKey = 'sk-openai-beta-0001';
const oneMillion = 'context-1m-2025-08-07';
const interleaved = 'interleaved-thinking-2025-05-14';

let anthropicMock: AnthropicMock;
let openAIMock: OpenAIMock;
let bedrockMock: BedrockMock;
let tollgate: LiveGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  anthropicMock = await startAnthropicMock({ apiKeys: [anthropicKey] });
  openAIMock = await startOpenAIMock({ apiKeys: [openAIKey] });
  bedrockMock = await startBedrockMock({ credentials: { accessKeyId: 'AKIABETAS00000000001', secretAccessKey: 'beta-secret' }, region: 'us-east-1' });
  tollgate = await startLiveGateway();
  const fast = { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 };
  // The operator turns one beta on for every request; the client's are added to it.
  await tollgate.configureProvider('anthropic', {
    network_config: { base_url: anthropicMock.baseUrl, extra_headers: { 'Anthropic-Beta': 'token-efficient-tools-2025-02-19' }, ...fast },
  });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: anthropicKey });
  await tollgate.configureProvider('openai', { network_config: { base_url: openAIMock.baseUrl, ...fast } });
  await tollgate.addKey('openai', { name: 'openai', value: openAIKey });
  await tollgate.configureProvider('bedrock', { network_config: { base_url: bedrockMock.baseUrl, ...fast } });
  await tollgate.addKey('bedrock', {
    name: 'aws',
    value: '',
    bedrock_key_config: { access_key: 'AKIABETAS00000000001', secret_key: 'beta-secret', region: 'us-east-1' },
  });
  anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
});
afterAll(async () => {
  await tollgate?.dispose();
  await anthropicMock?.close();
  await openAIMock?.close();
  await bedrockMock?.close();
});

const hello = { max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hello there' }] };

function lastAnthropicRequest() {
  return anthropicMock.requests[anthropicMock.requests.length - 1]!;
}

describe('anthropic-beta on /v1/messages', () => {
  it("reaches Anthropic as the header, after the operator's configured betas, and not in the body", async () => {
    const message = await anthropic.beta.messages.create({ ...hello, model: 'anthropic/claude-sonnet-4-5', betas: [oneMillion, interleaved] });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const sent = lastAnthropicRequest();
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['anthropic-beta']).toBe(`token-efficient-tools-2025-02-19,${oneMillion},${interleaved}`);
    expect(sent.body).not.toHaveProperty('anthropic_beta');
  });

  it('reaches Anthropic on a stream as well', async () => {
    const stream = anthropic.beta.messages.stream({ ...hello, model: 'anthropic/claude-sonnet-4-5', betas: [oneMillion] });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('end_turn');
    expect(lastAnthropicRequest().headers['anthropic-beta']).toBe(`token-efficient-tools-2025-02-19,${oneMillion}`);
  });

  it('leaves the configured header alone when the client asks for no beta, and names a beta once', async () => {
    await anthropic.messages.create({ ...hello, model: 'anthropic/claude-sonnet-4-5' });
    expect(lastAnthropicRequest().headers['anthropic-beta']).toBe('token-efficient-tools-2025-02-19');
    await anthropic.messages.create({ ...hello, model: 'anthropic/claude-sonnet-4-5' }, { headers: { 'anthropic-beta': `${oneMillion}, token-efficient-tools-2025-02-19,${oneMillion},` } });
    expect(lastAnthropicRequest().headers['anthropic-beta']).toBe(`token-efficient-tools-2025-02-19,${oneMillion}`);
  });

  it("relays Anthropic's refusal of a beta it does not know as the client's 400", async () => {
    const refused = await anthropic.beta.messages.create({ ...hello, model: 'anthropic/claude-sonnet-4-5', betas: ['no-such-feature'] }).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refused as Error).message).toContain('Unsupported beta header: no-such-feature');
  });

  it('refuses a header that is not a list of beta names with a 400 naming it, before any upstream call', async () => {
    const before = anthropicMock.requests.length;
    for (const value of ['context-1m-2025-08-07;drop', 'a b', '"quoted"', Array.from({ length: 33 }, (_, index) => `beta-${index}-2025-01-01`).join(',')]) {
      const refused = await anthropic.messages.create({ ...hello, model: 'anthropic/claude-sonnet-4-5' }, { headers: { 'anthropic-beta': value } }).catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
      expect((refused as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ error: { param: 'anthropic-beta', code: 'invalid_anthropic_beta' } });
    }
    expect(anthropicMock.requests.length).toBe(before);
  });

  it("reaches Claude on Bedrock in InvokeModel's anthropic_beta, and translated, in Converse's additionalModelRequestFields", async () => {
    const before = bedrockMock.requests.length;
    await anthropic.beta.messages.create({ ...hello, model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', betas: [oneMillion] });
    const sent = bedrockMock.requests.slice(before);
    expect(sent.map((request) => request.operation)).toEqual(['invoke']);
    expect((sent[0]!.json as Record<string, any>).anthropic_beta).toEqual([oneMillion]);
    expect(sent[0]!.headers['anthropic-beta']).toBeUndefined();

    // A system turn inside messages goes the translated way, through Converse.
    const translated = { ...hello, messages: [{ role: 'system', content: 'Be brief.' }, ...hello.messages] } as unknown as typeof hello;
    await anthropic.beta.messages.create({ ...translated, model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', betas: [oneMillion] });
    const converse = bedrockMock.requests.at(-1)!;
    expect(converse.operation).toBe('converse');
    expect((converse.json as Record<string, any>).additionalModelRequestFields).toEqual({ anthropic_beta: [oneMillion] });
  });

  it('never reaches a model that is not Claude', async () => {
    const before = openAIMock.requests.length;
    const message = await anthropic.beta.messages.create({ ...hello, model: 'openai/gpt-4o', betas: [oneMillion] });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const sent = openAIMock.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['anthropic-beta']).toBeUndefined();
    expect(JSON.stringify(sent[0]!.body)).not.toContain(oneMillion);
  });
});

describe('anthropic_beta on /v1/chat/completions', () => {
  const openai = () => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });

  it("is read from the chat body's anthropic_beta extension for a Claude model and sent as the header", async () => {
    const body = { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user' as const, content: 'Hello' }], anthropic_beta: [oneMillion] };
    const completion = await openai().chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(completion.choices[0]!.message.content).toBeTruthy();
    const sent = lastAnthropicRequest();
    expect(sent.headers['anthropic-beta']).toBe(`token-efficient-tools-2025-02-19,${oneMillion}`);
    expect(sent.body).not.toHaveProperty('anthropic_beta');
  });

  it('refuses an extension that is not a list of beta names with a 400 naming it', async () => {
    const before = anthropicMock.requests.length;
    const body = { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user' as const, content: 'Hello' }], anthropic_beta: ['a b'] };
    const refused = await openai().chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'anthropic_beta', code: 'invalid_anthropic_beta' });
    expect(anthropicMock.requests.length).toBe(before);
  });
});

describe('anthropic-beta on /v1/messages/count_tokens', () => {
  const question = { messages: [{ role: 'user' as const, content: 'How long is this?' }] };

  // The SDK's beta counter adds the beta that once gated the count endpoint itself.
  const tokenCounting = 'token-counting-2024-11-01';

  it("reaches Anthropic's counter as the header", async () => {
    const counted = await anthropic.beta.messages.countTokens({ ...question, model: 'anthropic/claude-sonnet-4-5', betas: [oneMillion] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const sent = lastAnthropicRequest();
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.headers['anthropic-beta']).toBe(`token-efficient-tools-2025-02-19,${oneMillion},${tokenCounting}`);
  });

  it("reaches Bedrock's CountTokens in the converse input's additionalModelRequestFields", async () => {
    const before = bedrockMock.requests.length;
    await anthropic.beta.messages.countTokens({ ...question, model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', betas: [oneMillion] });
    const sent = bedrockMock.requests.slice(before);
    expect(sent.map((request) => request.operation)).toEqual(['count-tokens']);
    const converse = (sent[0]!.json as { input: { converse: Record<string, unknown> } }).input.converse;
    // Without the count endpoint's own beta, which is Anthropic's API's and names no model feature.
    expect(converse.additionalModelRequestFields).toEqual({ anthropic_beta: [oneMillion] });
  });
});

describe('Claude-only request members on /v1/messages', () => {
  const members = {
    cache_control: { type: 'ephemeral' },
    context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
    output_config: { effort: 'low' },
  };
  const withheld = { service_tier: 'auto', speed: 'fast', inference_geo: 'us', container: 'container_1', mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'm' }] };
  const create = (model: string, extra: Record<string, unknown>) =>
    anthropic.messages.create({ ...hello, model, ...extra } as unknown as Anthropic.MessageCreateParamsNonStreaming);

  it('reach Anthropic as sent, output_config merged with a structured-output format; cost-changing ones do not', async () => {
    await create('anthropic/claude-sonnet-4-5', { ...members, ...withheld });
    const body = lastAnthropicRequest().body as Record<string, unknown>;
    expect(body).toMatchObject(members);
    for (const name of Object.keys(withheld)) expect(body).not.toHaveProperty(name);

    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    await create('anthropic/claude-sonnet-4-5', { output_config: { effort: 'high', format: { type: 'json_schema', schema } } });
    expect((lastAnthropicRequest().body as Record<string, unknown>).output_config).toEqual({ effort: 'high', format: { type: 'json_schema', schema } });
  });

  it("reach Claude on Bedrock in InvokeModel's body, and translated, in Converse's additionalModelRequestFields", async () => {
    const before = bedrockMock.requests.length;
    await create('bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', { ...members, ...withheld });
    const sent = bedrockMock.requests.slice(before);
    expect(sent.map((request) => request.operation)).toEqual(['invoke']);
    const body = sent[0]!.json as Record<string, unknown>;
    expect(body).toMatchObject(members);
    for (const name of Object.keys(withheld)) expect(body).not.toHaveProperty(name);

    const openai = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const chat = { model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', messages: [{ role: 'user', content: 'Hello' }], anthropic_request_members: { ...members, ...withheld } };
    await openai.chat.completions.create(chat as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const converse = bedrockMock.requests.at(-1)!;
    expect(converse.operation).toBe('converse');
    expect((converse.json as Record<string, any>).additionalModelRequestFields).toEqual(members);
  });

  it("are taken from a chat body's anthropic_request_members extension only by those names", async () => {
    const body = { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello' }], anthropic_request_members: { ...members, ...withheld } };
    const openai = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    await openai.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const sent = lastAnthropicRequest().body as Record<string, unknown>;
    expect(sent).toMatchObject(members);
    for (const name of [...Object.keys(withheld), 'anthropic_request_members']) expect(sent).not.toHaveProperty(name);
  });

  it('never reach a model that is not Claude', async () => {
    const before = openAIMock.requests.length;
    await create('openai/gpt-4o', members);
    const body = openAIMock.requests.slice(before)[0]!.body as Record<string, unknown>;
    for (const name of Object.keys(members)) expect(body).not.toHaveProperty(name);
    expect(body).not.toHaveProperty('anthropic_request_members');
  });
});

describe("a failed tool result's is_error on /v1/messages", () => {
  const failedRun = {
    max_tokens: 64,
    tools: [{ name: 'run', input_schema: { type: 'object' as const } }],
    messages: [
      { role: 'user' as const, content: 'Run it' },
      { role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 'toolu_9', name: 'run', input: {} }] },
      { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'toolu_9', is_error: true, content: 'exit status 2' }] },
    ],
  };

  it('reaches Anthropic as the flag, the content as sent', async () => {
    await anthropic.messages.create({ ...failedRun, model: 'anthropic/claude-sonnet-4-5' });
    const messages = (lastAnthropicRequest().body as { messages: Array<{ content: unknown }> }).messages;
    expect(messages[2]!.content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_9', is_error: true, content: 'exit status 2' }]);
  });

  it("reaches Claude on Bedrock as the flag, as sent (InvokeModel), and translated, as the toolResult's error status", async () => {
    const before = bedrockMock.requests.length;
    await anthropic.messages.create({ ...failedRun, model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0' });
    const invoke = bedrockMock.requests.slice(before)[0]!.json as { messages: Array<{ content: unknown }> };
    expect(invoke.messages[2]!.content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_9', is_error: true, content: 'exit status 2' }]);

    // A system turn inside messages goes the translated way, through Converse.
    const translated = { ...failedRun, messages: [{ role: 'system', content: 'Be brief.' }, ...failedRun.messages] } as unknown as typeof failedRun;
    await anthropic.messages.create({ ...translated, model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0' });
    const converse = bedrockMock.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> };
    expect(converse.messages[2]!.content[0]).toEqual({ toolResult: { toolUseId: 'toolu_9', content: [{ text: 'exit status 2' }], status: 'error' } });
  });

  it('reaches a model that is not Claude as text saying so', async () => {
    await anthropic.messages.create({ ...failedRun, model: 'openai/gpt-4o' });
    const messages = (openAIMock.requests.at(-1)!.body as { messages: unknown[] }).messages;
    expect(messages[2]).toEqual({ role: 'tool', tool_call_id: 'toolu_9', content: 'Error: exit status 2' });
  });
});

describe('message_start on a /v1/messages stream', () => {
  it("carries the prompt's tokens a Claude upstream reported at its own start, as the final usage does", async () => {
    const stream = anthropic.messages.stream({ ...hello, model: 'anthropic/claude-sonnet-4-5' });
    let started: Anthropic.Usage | undefined;
    stream.on('streamEvent', (event) => {
      // Copied: the SDK goes on to fold later usage into this very object.
      if (event.type === 'message_start') started = { ...event.message.usage };
    });
    const message = await stream.finalMessage();
    // The upstream's message id, as a non-streamed answer gives it (the mock's are msg_mock<n>).
    expect(message.id).toMatch(/^msg_mock\d+$/);
    expect(started?.input_tokens).toBeGreaterThan(0);
    expect(started?.input_tokens).toBe(message.usage.input_tokens);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });
});
