import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BEDROCK_ANTHROPIC_VERSION,
  claudeChunkFrames,
  claudeInputTokens,
  claudeModelName,
  claudeTokenCount,
  MOCK_FIRST_BYTE_LATENCY,
  MOCK_INVOCATION_LATENCY,
  startBedrockMock,
  vectorFor,
  type BedrockMock,
} from './bedrock-mock.js';

const credentials = { accessKeyId: 'AKIATOLLGATEMOCK0001', secretAccessKey: 'bedrock-mock-secret-0001' };
const apiKey = 'bedrock-mock-api-key';
const region = 'eu-west-1';
const haiku = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

let mock: BedrockMock | undefined;

afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function started(): Promise<BedrockMock> {
  mock = await startBedrockMock({ credentials, apiKeys: [apiKey], region });
  return mock;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  json: any;
}

/** POSTs a body to `/model/{modelId}/{operation}` with the Bedrock API key, as the gateway sends it. */
async function invoke(operation: string, body: unknown, modelId = haiku): Promise<Reply> {
  const response = await request(`${mock!.baseUrl}/model/${encodeURIComponent(modelId)}/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, bytes, json };
}

interface DecodedFrame {
  headers: Record<string, unknown>;
  payload: any;
}

/** Splits an event-stream body into frames (each starts with its total length) and decodes them. */
function decodeFrames(bytes: Uint8Array): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
    const message = codec.decode(bytes.subarray(offset, offset + length));
    const headers = Object.fromEntries(Object.entries(message.headers).map(([name, header]) => [name, header.value]));
    frames.push({ headers, payload: JSON.parse(toUtf8(message.body)) });
    offset += length;
  }
  return frames;
}

/** The Anthropic events inside `chunk` frames. */
function claudeEventsOf(bytes: Uint8Array): any[] {
  return decodeFrames(bytes).map((frame) => JSON.parse(Buffer.from(frame.payload.bytes, 'base64').toString('utf8')));
}

function claudeBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    anthropic_version: BEDROCK_ANTHROPIC_VERSION,
    max_tokens: 256,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Hello there from the test' }],
    ...overrides,
  };
}

const malformed = (violation: string): string => `Malformed input request: ${violation}, please reformat your input and try again.`;

describe('Bedrock mock: InvokeModel for Claude', () => {
  it('answers an Anthropic Message named after the foundation model, echoing the last user text', async () => {
    const bedrock = await started();
    const body = claudeBody({
      messages: [
        { role: 'user', content: 'First question' },
        { role: 'assistant', content: [{ type: 'text', text: 'First answer' }] },
        { role: 'user', content: [{ type: 'text', text: 'Second ' }, { type: 'text', text: 'question here' }] },
      ],
    });
    const reply = await invoke('invoke', body);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['x-amzn-requestid']).toBe('mock-request');
    const inputTokens = Math.ceil('Be brief.First questionFirst answerSecond question here'.length / 4);
    expect(reply.json).toEqual({
      id: expect.stringMatching(/^msg_bdrk_[A-Za-z0-9]{24}$/),
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [{ type: 'text', text: 'Second question here' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: claudeTokenCount('Second question here') },
    });
    expect(claudeInputTokens(body)).toBe(inputTokens);
    expect(reply.headers['x-amzn-bedrock-input-token-count']).toBe(String(inputTokens));
    expect(reply.headers['x-amzn-bedrock-output-token-count']).toBe(String(claudeTokenCount('Second question here')));
    expect(bedrock.requests[0]).toMatchObject({ operation: 'invoke', modelId: haiku, json: body });
  });

  it('names the model without prefix, profile and version whatever form the id takes', () => {
    expect(claudeModelName('anthropic.claude-sonnet-4-20250514-v1:0')).toBe('claude-sonnet-4-20250514');
    expect(claudeModelName('eu.anthropic.claude-3-7-sonnet-20250219-v1:0')).toBe('claude-3-7-sonnet-20250219');
    expect(claudeModelName('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-1-20250805-v1:0')).toBe(
      'claude-opus-4-1-20250805',
    );
  });

  it('calls a tool when tool_choice is any or names one', async () => {
    await started();
    const tools = [
      { name: 'lookup', description: 'Looks up', input_schema: { type: 'object' } },
      { name: 'search', description: 'Searches', input_schema: { type: 'object' } },
    ];
    const any = await invoke('invoke', claudeBody({ tools, tool_choice: { type: 'any' } }));
    expect(any.status).toBe(200);
    expect(any.json.stop_reason).toBe('tool_use');
    expect(any.json.content).toEqual([
      { type: 'tool_use', id: expect.stringMatching(/^toolu_bdrk_[A-Za-z0-9]{24}$/), name: 'lookup', input: { input: 'Hello there from the test' } },
    ]);
    expect(any.json.usage.output_tokens).toBe(claudeTokenCount(JSON.stringify({ input: 'Hello there from the test' })));
    const named = await invoke('invoke', claudeBody({ tools, tool_choice: { type: 'tool', name: 'search' } }));
    expect(named.json.content[0]).toMatchObject({ type: 'tool_use', name: 'search' });
    const auto = await invoke('invoke', claudeBody({ tools, tool_choice: { type: 'auto' } }));
    expect(auto.json.content).toEqual([{ type: 'text', text: 'Hello there from the test' }]);
  });

  it('thinks first when thinking is enabled', async () => {
    await started();
    const reply = await invoke('invoke', claudeBody({ max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } }));
    expect(reply.status).toBe(200);
    const [thinking, text] = reply.json.content;
    expect(thinking).toEqual({ type: 'thinking', thinking: 'Thinking about: Hello there from the test', signature: expect.stringMatching(/^[A-Za-z0-9+/]{20,}={0,2}$/) });
    expect(text).toEqual({ type: 'text', text: 'Hello there from the test' });
    expect(reply.json.usage.output_tokens).toBe(claudeTokenCount('Thinking about: Hello there from the testHello there from the test'));
  });

  it('cuts the echo at max_tokens', async () => {
    await started();
    const reply = await invoke('invoke', claudeBody({ max_tokens: 2, messages: [{ role: 'user', content: 'one two three four five' }] }));
    expect(reply.json.content).toEqual([{ type: 'text', text: 'one two ' }]);
    expect(reply.json.stop_reason).toBe('max_tokens');
    expect(reply.json.usage.output_tokens).toBe(2);
  });

  it.each([
    ['a missing anthropic_version', { anthropic_version: undefined }, malformed('#: required key [anthropic_version] not found')],
    ['a model member', { model: 'anthropic.claude-3-5-haiku-20241022-v1:0' }, malformed('#: extraneous key [model] is not permitted')],
    ['a stream member', { stream: true }, malformed('#: extraneous key [stream] is not permitted')],
    ['an unknown member', { frequency_penalty: 0.5 }, malformed('#: extraneous key [frequency_penalty] is not permitted')],
    ['another anthropic_version', { anthropic_version: '2023-06-01' }, malformed('#/anthropic_version: 2023-06-01 is not a valid enum value')],
    ['a missing max_tokens', { max_tokens: undefined }, malformed('#: required key [max_tokens] not found')],
    ['a zero max_tokens', { max_tokens: 0 }, malformed('#/max_tokens: 0 is not greater or equal to 1')],
    ['a fractional max_tokens', { max_tokens: 1.5 }, malformed('#/max_tokens: expected type: Integer, found: BigDecimal')],
    ['empty messages', { messages: [] }, malformed('#/messages: expected minimum item count: 1, found: 0')],
    ['a system role', { messages: [{ role: 'system', content: 'x' }] }, malformed('#/messages/0/role: system is not a valid enum value')],
    ['a numeric content', { messages: [{ role: 'user', content: 3 }] }, malformed('#/messages/0/content: expected type: String or JSONArray, found: Integer')],
    ['anthropic_beta as a string', { anthropic_beta: 'interleaved-thinking-2025-05-14' }, malformed('#/anthropic_beta: expected type: JSONArray, found: String')],
    ['an assistant first', { messages: [{ role: 'assistant', content: 'Hi' }] }, 'messages: first message must use the "user" role'],
  ])('refuses %s with a ValidationException', async (_case, overrides, message) => {
    const bedrock = await started();
    bedrock.enqueue({ status: 200, body: { never: 'used' } });
    for (const operation of ['invoke', 'invoke-with-response-stream']) {
      const reply = await invoke(operation, claudeBody(overrides));
      expect(reply.status).toBe(400);
      expect(reply.headers['x-amzn-errortype']).toMatch(/^ValidationException:/);
      expect(reply.json).toEqual({ message });
    }
  });

  it('runs all schema violations together, as Bedrock does', async () => {
    await started();
    const reply = await invoke('invoke', claudeBody({ model: 'claude', stream: true }));
    expect(reply.json.message).toBe(malformed('#: extraneous key [model] is not permitted#: extraneous key [stream] is not permitted'));
  });

  it('accepts every documented member, anthropic_beta as an array of strings among them', async () => {
    await started();
    const reply = await invoke(
      'invoke',
      claudeBody({
        anthropic_beta: ['interleaved-thinking-2025-05-14'],
        stop_sequences: ['END'],
        temperature: 0.5,
        top_k: 10,
        metadata: { user_id: 'u1' },
        cache_control: { type: 'ephemeral' },
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      }),
    );
    expect(reply.status).toBe(200);
  });
});

describe('Bedrock mock: InvokeModelWithResponseStream for Claude', () => {
  it('streams chunk frames whose bytes decode to the Anthropic events, ending with the invocation metrics', async () => {
    const bedrock = await started();
    const body = claudeBody({ messages: [{ role: 'user', content: 'one two three' }] });
    const reply = await invoke('invoke-with-response-stream', body);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/vnd.amazon.eventstream');
    expect(reply.headers['x-amzn-requestid']).toBe('mock-request');
    expect(bedrock.requests[0]).toMatchObject({ operation: 'invoke-with-response-stream', modelId: haiku });

    const frames = decodeFrames(reply.bytes);
    for (const frame of frames) {
      expect(frame.headers).toEqual({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' });
      expect(Object.keys(frame.payload).sort()).toEqual(['bytes', 'p']);
    }
    const events = claudeEventsOf(reply.bytes);
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const inputTokens = claudeInputTokens(body);
    const outputTokens = claudeTokenCount('one two three');
    expect(events[0].message).toMatchObject({
      id: expect.stringMatching(/^msg_bdrk_[A-Za-z0-9]{24}$/),
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 1 },
    });
    expect(events[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const deltas = events.filter((event) => event.type === 'content_block_delta').map((event) => event.delta);
    expect(deltas.map((delta) => delta.text)).toEqual(['one ', 'two ', 'three']);
    expect(deltas.every((delta) => delta.type === 'text_delta')).toBe(true);
    expect(events[6]).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } });
    expect(events[7]).toEqual({
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: inputTokens,
        outputTokenCount: outputTokens,
        invocationLatency: MOCK_INVOCATION_LATENCY,
        firstByteLatency: MOCK_FIRST_BYTE_LATENCY,
      },
    });
  });

  it('streams thinking, then signature, and a tool call as input_json deltas', async () => {
    await started();
    const reply = await invoke(
      'invoke-with-response-stream',
      claudeBody({
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
        tool_choice: { type: 'any' },
      }),
    );
    const events = claudeEventsOf(reply.bytes);
    expect(events.filter((event) => event.type === 'content_block_start').map((event) => event.content_block)).toEqual([
      { type: 'thinking', thinking: '', signature: '' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_bdrk_/), name: 'lookup', input: {} },
    ]);
    const deltas = (index: number): any[] => events.filter((event) => event.type === 'content_block_delta' && event.index === index).map((event) => event.delta);
    const thinking = deltas(0);
    expect(thinking.at(-1)).toEqual({ type: 'signature_delta', signature: expect.any(String) });
    expect(thinking.slice(0, -1).every((delta) => delta.type === 'thinking_delta')).toBe(true);
    expect(thinking.slice(0, -1).map((delta) => delta.thinking).join('')).toBe('Thinking about: Hello there from the test');
    const tool = deltas(1);
    expect(tool.every((delta) => delta.type === 'input_json_delta')).toBe(true);
    expect(JSON.parse(tool.map((delta) => delta.partial_json).join(''))).toEqual({ input: 'Hello there from the test' });
    expect(events.find((event) => event.type === 'message_delta').delta.stop_reason).toBe('tool_use');
  });

  it('plays enqueued claudeEvents as chunk frames, and can break off after some', async () => {
    const bedrock = await started();
    const scripted = [
      { type: 'message_start', message: { id: 'msg_bdrk_scripted', content: [], usage: { input_tokens: 3, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Scripted' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_stop' },
    ];
    bedrock.enqueue({ claudeEvents: scripted });
    const whole = await invoke('invoke-with-response-stream', claudeBody());
    expect(whole.headers['content-type']).toBe('application/vnd.amazon.eventstream');
    expect(claudeEventsOf(whole.bytes)).toEqual(scripted);

    bedrock.enqueue({ claudeEvents: scripted, failAfter: 2 });
    const response = await request(`${bedrock.baseUrl}/model/${encodeURIComponent(haiku)}/invoke-with-response-stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(claudeBody()),
    });
    const parts: Buffer[] = [];
    await expect(
      (async () => {
        for await (const part of response.body) parts.push(part as Buffer);
      })(),
    ).rejects.toThrow();
    expect(claudeEventsOf(Buffer.concat(parts))).toEqual(scripted.slice(0, 2));
  });

  it('encodes claudeChunkFrames for raw replies', async () => {
    const bedrock = await started();
    const events = [{ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 1, outputTokenCount: 2 } }];
    bedrock.enqueue({ raw: claudeChunkFrames(events), contentType: 'application/vnd.amazon.eventstream' });
    const reply = await invoke('invoke-with-response-stream', claudeBody());
    expect(decodeFrames(reply.bytes)[0]?.headers[':event-type']).toBe('chunk');
    expect(claudeEventsOf(reply.bytes)).toEqual(events);
  });

  it('applies canned replies and exception frames to the stream operation', async () => {
    const bedrock = await started();
    bedrock.enqueue({ status: 429, body: { message: 'Too many requests, please wait before trying again.' }, headers: { 'x-amzn-errortype': 'ThrottlingException' } });
    const throttled = await invoke('invoke-with-response-stream', claudeBody());
    expect(throttled.status).toBe(429);
    expect(throttled.headers['x-amzn-errortype']).toBe('ThrottlingException');
    expect(throttled.json).toEqual({ message: 'Too many requests, please wait before trying again.' });

    bedrock.enqueue({
      streamEvents: [
        { type: 'chunk', payload: { bytes: Buffer.from(JSON.stringify({ type: 'message_start', message: {} })).toString('base64') } },
        { type: 'modelStreamErrorException', payload: { message: 'The model stream broke.', originalStatusCode: 500 }, messageType: 'exception' },
      ],
    });
    const broken = await invoke('invoke-with-response-stream', claudeBody());
    const frames = decodeFrames(broken.bytes);
    expect(frames[1]?.headers).toMatchObject({ ':exception-type': 'modelStreamErrorException', ':message-type': 'exception' });
    expect(frames[1]?.payload.message).toBe('The model stream broke.');
  });

  it('checks a SigV4 signature made as the gateway makes it', async () => {
    await started();
    const url = new URL(`${mock!.baseUrl}/model/${encodeURIComponent(haiku)}/invoke-with-response-stream`);
    const body = JSON.stringify(claudeBody());
    const sign = async (secretAccessKey: string) =>
      new SignatureV4({ service: 'bedrock', region, credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey }, sha256: Sha256 }).sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream', host: url.host },
        body,
      });
    const send = async (secret: string) => {
      const signed = await sign(secret);
      const headers = Object.fromEntries(Object.entries(signed.headers as Record<string, string>).filter(([name]) => name !== 'host'));
      const response = await request(url, { method: 'POST', headers, body });
      return { status: response.statusCode, bytes: Buffer.from(await response.body.arrayBuffer()) };
    };
    const good = await send(credentials.secretAccessKey);
    expect(good.status).toBe(200);
    expect(claudeEventsOf(good.bytes).at(-1)?.type).toBe('message_stop');
    const bad = await send('not-the-secret');
    expect(bad.status).toBe(403);
  });
});

describe('Bedrock mock: InvokeModel for embeddings, unchanged', () => {
  it('still answers Titan embeddings and refuses to stream them', async () => {
    await started();
    const reply = await invoke('invoke', { inputText: 'hello world' }, 'amazon.titan-embed-text-v2:0');
    expect(reply.status).toBe(200);
    expect(reply.json.embedding).toEqual(vectorFor('hello world', 1024));
    expect(reply.headers['x-amzn-bedrock-input-token-count']).toBe('2');
    const streamed = await invoke('invoke-with-response-stream', { inputText: 'hello world' }, 'amazon.titan-embed-text-v2:0');
    expect(streamed.status).toBe(400);
    expect(streamed.json.message).toBe('The model is unsupported for streaming.');
  });
});
