/**
 * `/v1/messages` served by Anthropic's own API: the client's request reaches Anthropic as it was written (under the
 * model Anthropic knows, without the members Tollgate does not carry), and Anthropic's reply reaches the client as
 * Anthropic wrote it, streamed or not: block order, citations, the matched stop sequence, the usage breakdown by
 * cache lifetime, none of which the canonical chat form has a place for. Other providers, fallbacks to them, and
 * replies not sound enough to forward still go through the translation.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { createApiKey, ledgerRowsOf } from '../limits/limit-helpers.js';
import { sseEvents } from '../providers/malformed-reply-checks.js';

const anthropicKey = 'sk-ant-native-0001';
const openAIKey = 'sk-openai-native-0001';

let anthropicMock: AnthropicMock;
let openAIMock: OpenAIMock;
let tollgate: LiveGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  anthropicMock = await startAnthropicMock({ apiKeys: [anthropicKey] });
  openAIMock = await startOpenAIMock({ apiKeys: [openAIKey] });
  tollgate = await startLiveGateway();
  const fast = { retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 };
  await tollgate.configureProvider('anthropic', { network_config: { base_url: anthropicMock.baseUrl, ...fast } });
  await tollgate.addKey('anthropic', { name: 'anthropic', value: anthropicKey });
  await tollgate.configureProvider('openai', { network_config: { base_url: openAIMock.baseUrl, ...fast } });
  await tollgate.addKey('openai', { name: 'openai', value: openAIKey });
  anthropic = new Anthropic({ apiKey: testAdminKey, baseURL: tollgate.url, maxRetries: 0 });
});
afterAll(async () => {
  await tollgate?.dispose();
  await anthropicMock?.close();
  await openAIMock?.close();
});

function lastAnthropicBody(): Record<string, unknown> {
  return anthropicMock.requests.at(-1)!.body as Record<string, unknown>;
}

/** A document the client asks Claude to cite, and a turn of history with interleaved thinking and a tool call. */
const citedRequest = {
  max_tokens: 512,
  system: [{ type: 'text' as const, text: 'Answer from the documents.', cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }],
  messages: [
    {
      role: 'user' as const,
      content: [
        {
          type: 'document' as const,
          source: { type: 'text' as const, media_type: 'text/plain' as const, data: 'The grass is green. The sky is blue.' },
          title: 'Colours',
          context: 'A note on colours',
          citations: { enabled: true },
        },
        { type: 'text' as const, text: 'What colour is the grass?' },
      ],
    },
  ],
  stop_sequences: ['\n\nHuman:'],
  top_k: 5,
  metadata: { user_id: 'user-42' },
};

/** What Anthropic answers with citations, interleaved blocks and the usage breakdown the translation would lose. */
const citedReply = {
  id: 'msg_01NativeCited',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The document says so.', signature: 'sig-abc' },
    { type: 'text', text: 'According to the note, ' },
    {
      type: 'text',
      text: 'the grass is green',
      citations: [
        { type: 'char_location', cited_text: 'The grass is green. ', document_index: 0, document_title: 'Colours', start_char_index: 0, end_char_index: 20 },
      ],
    },
    { type: 'tool_use', id: 'toolu_01Look', name: 'lookup', input: { q: 'grass' } },
    { type: 'text', text: '.' },
  ],
  stop_reason: 'stop_sequence',
  stop_sequence: '\n\nHuman:',
  usage: {
    input_tokens: 21,
    cache_creation_input_tokens: 40,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 },
    output_tokens: 17,
    service_tier: 'standard',
  },
};

/** The one ledger row of a key that made one request answered with `citedReply`'s usage (or the stream's). */
async function expectCitedReplyMetered(apiKeyId: string): Promise<void> {
  const rows = await ledgerRowsOf(tollgate, apiKeyId);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ request_type: 'messages', status: 200 });
  // Anthropic's input_tokens leaves the cache out; the ledger counts the whole prompt.
  expect(Number(rows[0]!.input_tokens)).toBe(21 + 40);
  expect(Number(rows[0]!.output_tokens)).toBe(17);
  expect(Number(rows[0]!.cache_write_tokens)).toBe(40);
  // The cache writes were kept an hour, which Anthropic bills at twice the input rate (Sonnet 4.5: $6 a million).
  expect(Number(rows[0]!.cost_usd)).toBeCloseTo((21 * 3 + 40 * 6 + 17 * 15) / 1e6, 12);
}

describe('/v1/messages to Anthropic, not streamed', () => {
  it("sends the client's request as written and answers with Anthropic's reply as written", async () => {
    anthropicMock.enqueue({ status: 200, body: citedReply });
    // Members Tollgate does not carry (a price tier, an upstream container) and its own `fallbacks` stay behind.
    const message = await anthropic.messages.create({
      ...citedRequest,
      model: 'anthropic/claude-sonnet-4-5',
      service_tier: 'auto',
      container: 'container_1',
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(message).toEqual(citedReply);
    // Anthropic's id of the request, which the SDK shows for Anthropic's support, came along.
    expect(message._request_id).toBe(`req_mock${anthropicMock.requests.length}`);

    const sent = lastAnthropicBody();
    expect(sent).toEqual({ ...citedRequest, model: 'claude-sonnet-4-5' });
    expect(Object.keys(sent)[0]).toBe('model');
  });

  it('meters the reply: its usage settles the request and fills the ledger row', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    const keyed = new Anthropic({ apiKey: key.secret, baseURL: tollgate.url, maxRetries: 0 });
    anthropicMock.enqueue({ status: 200, body: citedReply });
    await keyed.messages.create({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' });
    await expectCitedReplyMetered(key.id);
  });

  it('translates a reply whose members a client reads are not sound, rather than forwarding it', async () => {
    anthropicMock.enqueue({ status: 200, body: { ...citedReply, id: 42, usage: { input_tokens: 3, output_tokens: 'many' } } });
    const message = await anthropic.messages.create({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' });
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage.output_tokens).toEqual(expect.any(Number));
    expect(message.model).toBe('anthropic/claude-sonnet-4-5');
  });

  it('goes the translated way for a system turn inside messages, which Anthropic itself refuses', async () => {
    const message = await anthropic.messages.create({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ] as unknown as Anthropic.MessageParam[],
    });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'hello there' })]);
    // A translated reply is Tollgate's own: no upstream request id is passed on.
    expect(message._request_id ?? null).toBeNull();
    const sent = lastAnthropicBody();
    expect(sent.system).toBe('Be brief.');
    expect(sent.messages).toEqual([{ role: 'user', content: 'hello there' }]);
  });

  it('falls back to another provider through the translation when Anthropic fails', async () => {
    anthropicMock.enqueue({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const { data: message, response } = await anthropic.messages
      .create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'fall back' }], fallbacks: ['openai/gpt-4o'] } as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    expect(response.headers.get('x-tollgate-provider')).toBe('openai');
    expect(message.type).toBe('message');
    expect(message.model).toBe('anthropic/claude-sonnet-4-5');
    expect(message.content).toEqual([expect.objectContaining({ type: 'text' })]);
    expect((openAIMock.requests.at(-1)!.body as Record<string, unknown>).model).toBe('gpt-4o');
  });

  it("takes fallbacks as { model } objects, the form of Anthropic's SDK, on every route", async () => {
    anthropicMock.enqueue({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const { response } = await anthropic.beta.messages
      .create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'fall back' }], fallbacks: [{ model: 'openai/gpt-4o' }] })
      .withResponse();
    expect(response.headers.get('x-tollgate-provider')).toBe('openai');

    const chat = await fetch(`${tollgate.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${testAdminKey}` },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], fallbacks: [{ model: 'openai/gpt-4o' }, 'openai/gpt-4o-mini'] }),
    });
    expect(chat.status).toBe(200);
  });

  it("refuses a fallback's own settings and Anthropic's 'default' with a 400 naming the field", async () => {
    const post = async (fallbacks: unknown) => {
      const response = await fetch(`${tollgate.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': testAdminKey },
        body: JSON.stringify({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], fallbacks }),
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string; param: string; message: string } } };
    };
    const before = anthropicMock.requests.length;
    const settings = await post([{ model: 'openai/gpt-4o', max_tokens: 8 }]);
    expect(settings.status).toBe(400);
    expect(settings.body.error).toMatchObject({ code: 'unknown_field', param: 'fallbacks.0.max_tokens' });
    const named = await post('default');
    expect(named.status).toBe(400);
    expect(named.body.error.param).toBe('fallbacks');
    expect(anthropicMock.requests.length).toBe(before);
  });

  it("sends the client's betas to Anthropic even when a fallback is not Claude", async () => {
    await anthropic.beta.messages.create({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'with betas' }],
      betas: ['context-1m-2025-08-07'],
      fallbacks: ['openai/gpt-4o'],
    } as unknown as Anthropic.Beta.MessageCreateParamsNonStreaming);
    expect(anthropicMock.requests.at(-1)!.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
  });
});

/** A Claude stream with what the translation has no place for: citations, the cache breakdown, a stop sequence. */
const citedStream: Array<{ event: string; data: unknown }> = [
  {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id: 'msg_01NativeStream',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 21, cache_creation_input_tokens: 40, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 }, output_tokens: 1, service_tier: 'standard' },
      },
    },
  },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The document says so.' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-abc' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  { event: 'ping', data: { type: 'ping' } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '', citations: [] } } },
  {
    event: 'content_block_delta',
    data: {
      type: 'content_block_delta',
      index: 1,
      delta: {
        type: 'citations_delta',
        citation: { type: 'char_location', cited_text: 'The grass is green. ', document_index: 0, document_title: 'Colours', start_char_index: 0, end_char_index: 20 },
      },
    },
  },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'the grass is green' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
  {
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: 'stop_sequence', stop_sequence: '\n\nHuman:' },
      usage: { input_tokens: 21, cache_creation_input_tokens: 40, cache_read_input_tokens: 0, output_tokens: 17 },
    },
  },
  { event: 'message_stop', data: { type: 'message_stop' } },
];

async function streamThroughTollgate(body: Record<string, unknown>, apiKey = testAdminKey): Promise<{ status: number; text: string; requestId: string | null }> {
  const response = await fetch(`${tollgate.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { status: response.status, text: await response.text(), requestId: response.headers.get('request-id') };
}

describe('/v1/messages to Anthropic, streamed', () => {
  it("relays Anthropic's events as they were sent, event for event", async () => {
    anthropicMock.enqueue({ streamEvents: citedStream });
    const { status, text, requestId } = await streamThroughTollgate({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' });
    expect(status).toBe(200);
    expect(requestId).toBe(`req_mock${anthropicMock.requests.length}`);
    expect(sseEvents(text).map((item) => ({ event: item.event, data: JSON.parse(item.data) as unknown }))).toEqual(citedStream);
    expect(lastAnthropicBody()).toEqual({ ...citedRequest, model: 'claude-sonnet-4-5', stream: true });
  });

  it("gives the SDK's stream helper the message Anthropic streamed, citations and cache breakdown included", async () => {
    anthropicMock.enqueue({ streamEvents: citedStream });
    const message = await anthropic.messages.stream({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' }).finalMessage();
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'The document says so.', signature: 'sig-abc' },
      {
        type: 'text',
        text: 'the grass is green',
        citations: [
          { type: 'char_location', cited_text: 'The grass is green. ', document_index: 0, document_title: 'Colours', start_char_index: 0, end_char_index: 20 },
        ],
      },
    ]);
    expect(message.stop_sequence).toBe('\n\nHuman:');
    expect(message.usage).toMatchObject({ cache_creation: { ephemeral_1h_input_tokens: 40 }, output_tokens: 17 });
  });

  it('translates a stream whose message_start lacks what a client reads (its usage), as for any other provider', async () => {
    const start = citedStream[0]!.data as { message: Record<string, unknown> };
    const { usage: _left, ...withoutUsage } = start.message;
    anthropicMock.enqueue({ streamEvents: [{ event: 'message_start', data: { type: 'message_start', message: withoutUsage } }, ...citedStream.slice(1)] });
    const message = await anthropic.messages.stream({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' }).finalMessage();
    expect(message.model).toBe('anthropic/claude-sonnet-4-5');
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'The document says so.', signature: 'sig-abc' },
      { type: 'text', text: 'the grass is green' },
    ]);
    expect(message.usage.output_tokens).toBe(17);
  });

  it('meters the stream from the usage it carried', async () => {
    const key = await createApiKey(tollgate, { consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' });
    anthropicMock.enqueue({ streamEvents: citedStream });
    const { status } = await streamThroughTollgate({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' }, key.secret);
    expect(status).toBe(200);
    // The breakdown by lifetime came with message_start, the final counts with message_delta.
    await expectCitedReplyMetered(key.id);
  });

  it('ends with an error event, naming no secret, when Anthropic reports one mid-stream', async () => {
    anthropicMock.enqueue({
      streamEvents: [
        citedStream[0]!,
        { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: `Overloaded (key ${anthropicKey})` } } },
      ],
    });
    const { text } = await streamThroughTollgate({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' });
    const events = sseEvents(text);
    expect(events.map((item) => item.event)).toEqual(['message_start', 'error']);
    const error = JSON.parse(events[1]!.data) as { type: string; error: { type: string; message: string } };
    expect(error.type).toBe('error');
    expect(error.error.type).toBe('overloaded_error');
    expect(error.error.message).not.toContain(anthropicKey);
  });

  it('ends with an error event when the stream stops before message_stop, or sends an event that cannot be forwarded', async () => {
    anthropicMock.enqueue({ streamEvents: citedStream.slice(0, 4) });
    const cut = sseEvents((await streamThroughTollgate({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' })).text);
    expect(cut.map((item) => item.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'error']);

    const broken = { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 'many' } } };
    anthropicMock.enqueue({ streamEvents: [...citedStream.slice(0, 10), broken, citedStream[11]!] });
    const refused = sseEvents((await streamThroughTollgate({ ...citedRequest, model: 'anthropic/claude-sonnet-4-5' })).text);
    expect(refused.at(-1)!.event).toBe('error');
    expect(refused.map((item) => item.event)).not.toContain('message_delta');
  });
});
