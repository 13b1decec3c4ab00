/**
 * `/v1/responses` served by OpenAI's own API: the client's request reaches OpenAI's `/v1/responses` as it was written
 * (under the model OpenAI knows, without the members Tollgate does not carry), and OpenAI's Response, or its event
 * stream, reaches the client as OpenAI wrote it: earlier reasoning items with their encrypted content go back to the
 * model, `include` brings new ones, and the answer keeps OpenAI's ids, model snapshot and items. Metering, limits,
 * refusals at the door and fallbacks to other providers stay as for any request.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { mockTokenCount, startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { MOCK_REASONING_TOKENS, responsesInputTokens } from '../mocks/openai-responses-mock.js';
import { createApiKey, ledgerRowsOf } from '../limits/limit-helpers.js';
import { sseEvents } from '../providers/malformed-reply-checks.js';
import { statelessSecondTurn } from '../support/responses-conversation.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const openAIKey = 'sk-openai-native-responses-0001';
const anthropicKey = 'sk-ant-native-responses-0001';

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
  await tollgate.configureProvider('anthropic', { network_config: { base_url: anthropicMock.baseUrl, ...fast } });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: anthropicKey });
  client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await tollgate?.dispose();
  await openAIMock?.close();
  await anthropicMock?.close();
});

function lastOpenAIRequest(): { path: string; body: Record<string, unknown> } {
  const last = openAIMock.requests.at(-1)!;
  return { path: last.path, body: last.body as Record<string, unknown> };
}

/** A second turn of a stateless conversation with a reasoning model, with OpenAI's own members beside. */
const secondTurn = { ...statelessSecondTurn('openai/gpt-5'), text: { verbosity: 'low' as const }, prompt_cache_key: 'conversation-7' };

describe('/v1/responses to OpenAI, not streamed', () => {
  it("sends the client's request as written and answers with OpenAI's Response as written", async () => {
    const { data: response, response: raw } = await client.responses
      .create({ ...secondTurn, service_tier: 'priority', fallbacks: ['anthropic/claude-sonnet-4-5'] } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .withResponse();
    const sent = lastOpenAIRequest();
    expect(sent.path).toBe('/v1/responses');
    // As written, under OpenAI's model name; Tollgate's fallbacks and the priced service tier stay behind.
    const { model: _model, ...asWritten } = secondTurn;
    expect(sent.body).toEqual({ model: 'gpt-5', ...asWritten });
    expect(Object.keys(sent.body)[0]).toBe('model');

    // OpenAI's own Response: its id, its dated model, a new reasoning item with its encrypted content.
    expect(response.id).toMatch(/^resp_0+\d+$/);
    expect(response.model).toBe('gpt-5-2025-04-14');
    expect((response as unknown as { store: boolean }).store).toBe(false);
    expect(response.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^gAAAAAB/) });
    expect(response.output_text).toBe('And times three?');
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(MOCK_REASONING_TOKENS);
    // The reply names who served it; its request id stays Tollgate's own.
    expect(raw.headers.get('x-tollgate-provider')).toBe('openai');
    expect(raw.headers.get('x-request-id')).not.toMatch(/^req_/);
  });

  it("meters the reply from OpenAI's usage", async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new OpenAI({ apiKey: key.secret, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const response = await keyed.responses.create(secondTurn);
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ request_type: 'responses', status: 200, provider: 'openai' });
    expect(Number(rows[0]!.input_tokens)).toBe(response.usage!.input_tokens);
    expect(Number(rows[0]!.output_tokens)).toBe(response.usage!.output_tokens);
    expect(response.usage!.output_tokens).toBe(mockTokenCount('And times three?') + MOCK_REASONING_TOKENS);
  });

  it("reserves for the earlier reasoning items OpenAI reads, which the translation leaves out", async () => {
    // A key with room for the request's text and output, not for 400 more bytes of encrypted reasoning.
    const key = await createApiKey(tollgate, { consumptionLimit: { tokens: 700 }, limitPeriod: 'LIFETIME' });
    const keyed = new OpenAI({ apiKey: key.secret, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const withoutReasoning = { ...secondTurn, input: secondTurn.input.filter((item) => !('type' in item && item.type === 'reasoning')) };
    const before = openAIMock.requests.length;
    const refused = await keyed.responses.create(secondTurn).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect(openAIMock.requests.length).toBe(before);
    await expect(keyed.responses.create(withoutReasoning)).resolves.toMatchObject({ status: 'completed' });
  });

  it('answers a Response it cannot forward soundly with a 502, as a chat completion it cannot read', async () => {
    const sound = await client.responses.create({ model: 'openai/gpt-4o', input: 'hello' });
    openAIMock.enqueue({ status: 200, body: { ...sound, usage: { input_tokens: 'many', output_tokens: 3, total_tokens: 3 } } });
    const error = await client.responses.create({ model: 'openai/gpt-4o', input: 'hello' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: 'upstream_invalid_response' });
  });

  it('falls back to another provider through the translation when OpenAI fails', async () => {
    openAIMock.enqueue({ status: 500, body: { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } } });
    const response = await client.responses.create({ ...secondTurn, fallbacks: ['anthropic/claude-sonnet-4-5'] } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(response.model).toBe('openai/gpt-5');
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text).toContain('And times three?');
    // Claude got the translation: the conversation's text, without OpenAI's reasoning item.
    expect(JSON.stringify(anthropicMock.requests.at(-1)!.body)).not.toContain('gAAAAAB');
  });
});

async function streamThroughTollgate(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${tollgate.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${testAdminKey}` },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { status: response.status, text: await response.text() };
}

/** OpenAI's events of one short streamed answer, as the mock writes them (sequence numbers from 0). */
async function recordedStream(): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const response = await fetch(`${openAIMock.baseUrl}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${openAIKey}` },
    body: JSON.stringify({ model: 'gpt-4o', input: 'two words', stream: true }),
  });
  return sseEvents(await response.text()).map((item) => ({ event: item.event!, data: JSON.parse(item.data) as Record<string, unknown> }));
}

describe('/v1/responses to OpenAI, streamed', () => {
  it("relays OpenAI's events as they were sent, event for event", async () => {
    const recorded = await recordedStream();
    openAIMock.enqueue({ streamChunks: recorded.map((item) => item.data) });
    const { status, text } = await streamThroughTollgate({ model: 'openai/gpt-4o', input: 'two words', stream_options: { include_obfuscation: false } });
    expect(status).toBe(200);
    expect(sseEvents(text).map((item) => ({ event: item.event, data: JSON.parse(item.data) as unknown }))).toEqual(recorded);
    expect(lastOpenAIRequest().body).toEqual({ model: 'gpt-4o', input: 'two words', stream: true, stream_options: { include_obfuscation: false } });
  });

  it("gives the SDK's stream helper the Response OpenAI streamed, reasoning item included", async () => {
    const deltas: string[] = [];
    const stream = client.responses.stream(secondTurn);
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    expect(response.model).toBe('gpt-5-2025-04-14');
    expect(response.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^gAAAAAB/) });
    expect(deltas.join('')).toBe('And times three?');
    expect(response.output_text).toBe('And times three?');
    expect(lastOpenAIRequest().body).toMatchObject({ model: 'gpt-5', stream: true, input: secondTurn.input });
  });

  it('meters the stream from the usage of its response.completed', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new OpenAI({ apiKey: key.secret, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const response = await keyed.responses.stream(secondTurn).finalResponse();
    const rows = await ledgerRowsOf(tollgate, key.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ request_type: 'responses', status: 200, stream: 1 });
    expect(Number(rows[0]!.input_tokens)).toBe(response.usage!.input_tokens);
    expect(Number(rows[0]!.output_tokens)).toBe(response.usage!.output_tokens);
  });

  it("ends with an error event numbered after OpenAI's last, naming no secret, when OpenAI reports an error mid-stream", async () => {
    const recorded = await recordedStream();
    const error = { type: 'error', code: 'server_error', message: `The server had an error (key ${openAIKey})`, param: null, sequence_number: 3 };
    openAIMock.enqueue({ streamChunks: [...recorded.slice(0, 3).map((item) => item.data), error] });
    const events = sseEvents((await streamThroughTollgate({ model: 'openai/gpt-4o', input: 'two words' })).text);
    expect(events.map((item) => item.event)).toEqual([...recorded.slice(0, 3).map((item) => item.event), 'error']);
    const ending = JSON.parse(events.at(-1)!.data) as { type: string; sequence_number: number; message: string };
    expect(ending.type).toBe('error');
    expect(ending.sequence_number).toBe(3);
    expect(ending.message).toContain('The server had an error');
    expect(ending.message).not.toContain(openAIKey);

    // The SDK throws it, as it throws OpenAI's own.
    openAIMock.enqueue({ streamChunks: [...recorded.slice(0, 3).map((item) => item.data), error] });
    await expect(client.responses.stream({ model: 'openai/gpt-4o', input: 'two words' }).finalResponse()).rejects.toThrow(/The server had an error/);
  });

  it('ends with an error event when the stream stops before its response completed, or sends an event that cannot be forwarded', async () => {
    const recorded = await recordedStream();
    openAIMock.enqueue({ streamChunks: recorded.slice(0, -1).map((item) => item.data) });
    const cut = sseEvents((await streamThroughTollgate({ model: 'openai/gpt-4o', input: 'two words' })).text);
    expect(cut.map((item) => item.event)).toEqual([...recorded.slice(0, -1).map((item) => item.event), 'error']);
    expect((JSON.parse(cut.at(-1)!.data) as { sequence_number: number }).sequence_number).toBe(recorded.length - 1);

    const final = recorded.at(-1)!.data as { response: Record<string, unknown> };
    const broken = { ...final, response: { ...final.response, usage: { input_tokens: -1, output_tokens: 2, total_tokens: 1 } } };
    openAIMock.enqueue({ streamChunks: [...recorded.slice(0, -1).map((item) => item.data), broken] });
    const refused = sseEvents((await streamThroughTollgate({ model: 'openai/gpt-4o', input: 'two words' })).text);
    expect(refused.at(-1)!.event).toBe('error');
    expect(refused.map((item) => item.event)).not.toContain('response.completed');
  });

  it('ends with an error event when OpenAI reports the response failed', async () => {
    const recorded = await recordedStream();
    const created = recorded[0]!.data as { response: Record<string, unknown> };
    const failed = {
      type: 'response.failed',
      response: { ...created.response, status: 'failed', error: { code: 'server_error', message: 'The model failed to answer.' } },
      sequence_number: 2,
    };
    openAIMock.enqueue({ streamChunks: [recorded[0]!.data, recorded[1]!.data, failed] });
    const events = sseEvents((await streamThroughTollgate({ model: 'openai/gpt-4o', input: 'two words' })).text);
    expect(events.map((item) => item.event)).toEqual(['response.created', 'response.in_progress', 'error']);
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ type: 'error', sequence_number: 2, message: 'The model failed to answer.' });
  });
});

describe('a stateless conversation with a reasoning model, as Codex holds one', () => {
  it("sends each turn's output back as the next turn's input, reasoning items with their encrypted content", async () => {
    const settings = { model: 'openai/gpt-5', store: false, include: ['reasoning.encrypted_content' as const], reasoning: { effort: 'low' as const } };
    const first = await client.responses.create({ ...settings, input: [{ role: 'user', content: 'What is 2 + 2?' }] });
    const reasoning = first.output.find((item) => item.type === 'reasoning');
    expect(reasoning).toMatchObject({ encrypted_content: expect.stringMatching(/^gAAAAAB/) });

    // The SDK's own output items, as returned, followed by the next question.
    const second = await client.responses.create({
      ...settings,
      input: [{ role: 'user', content: 'What is 2 + 2?' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'And times three?' }],
    });
    expect(second.output_text).toBe('And times three?');
    const sent = lastOpenAIRequest().body as { input: Array<Record<string, unknown>> };
    expect(sent.input.slice(1, -1)).toEqual(JSON.parse(JSON.stringify(first.output)));
  });
});

describe('/v1/responses/input_tokens with an OpenAI model', () => {
  it("is counted by OpenAI's own counter, from the request as written", async () => {
    const { data, response } = await client.responses.inputTokens
      .count({ model: 'openai/gpt-5', instructions: secondTurn.instructions, input: secondTurn.input, reasoning: secondTurn.reasoning, text: secondTurn.text })
      .withResponse();
    const sent = lastOpenAIRequest();
    expect(sent.path).toBe('/v1/responses/input_tokens');
    expect(sent.body).toEqual({ model: 'gpt-5', instructions: secondTurn.instructions, input: secondTurn.input, reasoning: secondTurn.reasoning, text: secondTurn.text });
    expect(response.headers.get('x-tollgate-token-count')).toBe('provider');
    // The count the reasoning item is part of: what OpenAI's counter answers, not Tollgate's estimate of the translation.
    expect(data).toEqual({ object: 'response.input_tokens', input_tokens: responsesInputTokens(sent.body) });
  });

  it("leaves out what OpenAI's counter does not take", async () => {
    await client.responses.inputTokens.count({ ...secondTurn, stream: true } as unknown as OpenAI.Responses.InputTokenCountParams);
    const sent = lastOpenAIRequest().body;
    for (const name of ['max_output_tokens', 'store', 'include', 'prompt_cache_key', 'stream']) expect(sent).not.toHaveProperty(name);
  });
});
