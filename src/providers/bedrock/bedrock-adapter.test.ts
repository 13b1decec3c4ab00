/**
 * The Bedrock adapter against the local Bedrock mock, over real HTTP (undici). The mock recomputes every SigV4
 * signature from the credentials it knows, so a 200 here means the signature, the session token and the
 * signed body bytes are right.
 */
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBedrockMock, vectorFor, type BedrockMock } from '../../../test/mocks/bedrock-mock.js';
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ProviderContext, ResolvedKey, StreamEvent, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { authenticateBedrockRequest } from './bedrock-auth.js';
import { createBedrockAdapter } from './index.js';

const REGION = 'us-west-2';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SESSION = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary/secret+key', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//token==' };
const API_KEY = 'ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl';
const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

const adapter = createBedrockAdapter({});
let mock: BedrockMock;
let sessionMock: BedrockMock;

beforeAll(async () => {
  mock = await startBedrockMock({ credentials: CREDENTIALS, apiKeys: [API_KEY], region: REGION });
  sessionMock = await startBedrockMock({ credentials: SESSION, region: REGION });
});

afterAll(async () => {
  await Promise.all([mock.close(), sessionMock.close()]);
});

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : value;
  return result;
}

async function send(upstream: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
  const response = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body, signal });
  return { status: response.statusCode, headers: flatten(response.headers), body: new Uint8Array(await response.body.arrayBuffer()) };
}

function contextFor(target: BedrockMock, bedrock: Partial<NonNullable<ResolvedKey['bedrock']>> = {}, value = '', model = MODEL): ProviderContext {
  return {
    provider: {
      name: 'bedrock',
      adapterType: 'bedrock',
      network: { baseUrl: target.baseUrl, extraHeaders: {}, timeoutMs: 10_000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 },
    },
    key: { id: 'key-1', name: 'primary', provider: 'bedrock', value, bedrock: { region: REGION, deployments: {}, ...bedrock } },
    model,
    requestId: 'req-1',
    send,
    now: () => Date.UTC(2025, 5, 1, 12, 0, 0),
  };
}

const signedKey = { accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey };
const hello: ChatCompletionRequest = { model: MODEL, messages: [{ role: 'user', content: 'Hello?' }], max_tokens: 64 };

async function chat(context: ProviderContext, body: ChatCompletionRequest = hello): Promise<UpstreamResponse> {
  return send(await adapter.chat.buildRequest(body, context, { stream: false }));
}

describe('Bedrock adapter against the mock', () => {
  it('signs Converse with SigV4 over the percent-encoded model path', async () => {
    const context = contextFor(mock, signedKey);
    const response = await chat(context);
    expect(response.status).toBe(200);
    const recorded = mock.requests.at(-1)!;
    expect(recorded.url).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(recorded.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250601\/us-west-2\/bedrock\/aws4_request, /);
    expect(recorded.headers['x-amz-security-token']).toBeUndefined();
    const result = await adapter.chat.parseResponse(response, context);
    expect(result.completion.choices[0]?.message.content).toBe('Hello from the Bedrock mock.');
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 6, cachedInputTokens: 0 });
  });

  it('sends and signs the session token of temporary credentials', async () => {
    const withToken = contextFor(sessionMock, { accessKey: SESSION.accessKeyId, secretKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken });
    expect((await chat(withToken)).status).toBe(200);
    const recorded = sessionMock.requests.at(-1)!;
    expect(recorded.headers['x-amz-security-token']).toBe(SESSION.sessionToken);
    expect(String(recorded.headers.authorization)).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);

    const withoutToken = contextFor(sessionMock, { accessKey: SESSION.accessKeyId, secretKey: SESSION.secretAccessKey });
    const rejected = await chat(withoutToken);
    expect(rejected.status).toBe(403);
    expect(adapter.parseError(rejected, withoutToken)).toMatchObject({ status: 401, type: 'authentication_error' });
  });

  it('is rejected with a wrong secret or a body changed after signing', async () => {
    const wrongSecret = contextFor(mock, { ...signedKey, secretKey: 'not-the-secret' });
    const rejected = await chat(wrongSecret);
    expect(rejected.status).toBe(403);
    expect(rejected.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException:/);
    expect(adapter.parseError(rejected, wrongSecret)).toMatchObject({ status: 401, code: 'invalid_api_key' });

    const context = contextFor(mock, signedKey);
    const signed = await adapter.chat.buildRequest(hello, context, { stream: false });
    const tampered = await send({ ...signed, body: String(signed.body).replace('Hello?', 'Hello!') });
    expect(tampered.status).toBe(403);
  });

  it('addresses an inference profile ARN as one encoded segment, and prefers a deployment mapping', async () => {
    const arn = 'arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc123';
    expect((await chat(contextFor(mock, { ...signedKey, arn }))).status).toBe(200);
    expect(mock.requests.at(-1)?.url).toBe(`/model/${encodeURIComponent(arn)}/converse`);
    expect(mock.requests.at(-1)?.modelId).toBe(arn);

    const mapped = contextFor(mock, { ...signedKey, arn, deployments: { [MODEL]: 'us.anthropic.claude-3-5-sonnet-20240620-v1:0' } });
    expect((await chat(mapped)).status).toBe(200);
    expect(mock.requests.at(-1)?.modelId).toBe('us.anthropic.claude-3-5-sonnet-20240620-v1:0');
  });

  it('signs the configured extra headers too', async () => {
    const context = contextFor(mock, signedKey);
    context.provider.network.extraHeaders = { 'X-Tollgate-Route': 'blue' };
    expect((await chat(context)).status).toBe(200);
    expect(mock.requests.at(-1)?.headers['x-tollgate-route']).toBe('blue');
    expect(String(mock.requests.at(-1)?.headers.authorization)).toMatch(/SignedHeaders=[^,]*x-tollgate-route/);
  });

  it('sends a Bedrock API key as a bearer token without signing', async () => {
    const context = contextFor(mock, {}, API_KEY);
    expect((await chat(context)).status).toBe(200);
    expect(mock.requests.at(-1)?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(mock.requests.at(-1)?.headers['x-amz-date']).toBeUndefined();
    expect((await chat(contextFor(mock, {}, 'ABSK-wrong'))).status).toBe(403);
  });

  it('sends tool histories the service accepts, where a body without toolConfig is refused', async () => {
    const context = contextFor(mock, signedKey);
    const history: ChatCompletionRequest = {
      model: MODEL,
      messages: [
        { role: 'assistant', content: 'Hi, I can look songs up.' },
        { role: 'user', content: 'Top song on WZPZ?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } }] },
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'Elemental Hotel' },
      ],
    };
    expect((await chat(context, history)).status).toBe(200);

    // The same body without its toolConfig, signed correctly, shows the mock really enforces the rule.
    const signed = await adapter.chat.buildRequest(history, context, { stream: false });
    const withoutToolConfig = JSON.parse(String(signed.body)) as Record<string, unknown>;
    delete withoutToolConfig.toolConfig;
    const bare = await authenticateBedrockRequest(
      { method: 'POST', url: signed.url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(withoutToolConfig) },
      context,
    );
    const refused = await send(bare);
    expect(refused.status).toBe(400);
    expect(adapter.parseError(refused, context).message).toMatch(/toolConfig field must be defined/);
  });

  it('maps an error reply of the service', async () => {
    const context = contextFor(mock, signedKey);
    mock.enqueue({ status: 429, body: { message: 'Too many requests, please wait before trying again.' }, headers: { 'x-amzn-errortype': 'ThrottlingException' } });
    const response = await chat(context);
    expect(adapter.parseError(response, context)).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'Too many requests, please wait before trying again.' });
  });
});

describe('Bedrock streaming against the mock', () => {
  /** Streams a reply, feeding the decoder each network read re-split into 3-byte pieces. */
  async function stream(context: ProviderContext): Promise<{ events: StreamEvent[]; failed: boolean; decoder: ReturnType<typeof adapter.chat.createStreamDecoder> }> {
    const upstream = await adapter.chat.buildRequest(hello, context, { stream: true });
    const response = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.amazon.eventstream');
    const decoder = adapter.chat.createStreamDecoder(context);
    const events: StreamEvent[] = [];
    let failed = false;
    try {
      for await (const read of response.body) {
        const bytes = read as Buffer;
        for (let start = 0; start < bytes.length; start += 3) events.push(...decoder.push(bytes.subarray(start, start + 3)));
      }
    } catch {
      failed = true;
    }
    events.push(...decoder.finish());
    return { events, failed, decoder };
  }

  it('decodes the binary event stream into chunks and usage', async () => {
    const context = contextFor(mock, signedKey);
    const { events, decoder } = await stream(context);
    expect(mock.requests.at(-1)?.url).toMatch(/\/converse-stream$/);
    expect(mock.requests.at(-1)?.headers.accept).toBe('application/vnd.amazon.eventstream');
    const chunks = events.flatMap((event) => (event.kind === 'chunk' ? [event.chunk] : []));
    expect(events).toHaveLength(chunks.length);
    expect(chunks.pop()).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 } });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the Bedrock mock.');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(decoder.usage()).toEqual({ inputTokens: 10, outputTokens: 6, cachedInputTokens: 0 });
  });

  it('turns an exception frame into an error event', async () => {
    const context = contextFor(mock, signedKey);
    mock.enqueue({
      streamEvents: [
        { type: 'messageStart', payload: { role: 'assistant' } },
        { type: 'serviceUnavailableException', payload: { message: 'Service is unavailable.' }, messageType: 'exception' },
      ],
    });
    const { events } = await stream(context);
    expect(events.at(-1)).toEqual({
      kind: 'error',
      error: { status: 503, type: 'service_unavailable_error', code: 'service_unavailable', message: 'Service is unavailable.', param: null },
    });
  });

  it('reports a connection dropped mid-stream', async () => {
    const context = contextFor(mock, signedKey);
    mock.enqueue({
      streamEvents: [
        { type: 'messageStart', payload: { role: 'assistant' } },
        { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Half' } } },
        { type: 'messageStop', payload: { stopReason: 'end_turn' } },
      ],
      failAfter: 2,
    });
    const { events } = await stream(context);
    expect(events.filter((event) => event.kind === 'chunk')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ kind: 'error', error: { status: 502, code: 'upstream_stream_error' } });
  });

  it('lets a hanging call be aborted', async () => {
    const context = contextFor(mock, signedKey);
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const upstream = await adapter.chat.buildRequest(hello, context, { stream: true });
    const arrived = mock.nextRequest();
    const pending = send(upstream, controller.signal).catch((error: unknown) => error);
    await arrived;
    const aborted = mock.whenAborted();
    controller.abort();
    await aborted;
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('Bedrock embeddings against the mock', () => {
  it('fans Titan out, signed, and keeps the input order', async () => {
    const context = contextFor(mock, signedKey, '', 'amazon.titan-embed-text-v2:0');
    const input = ['the first text', 'a second one', 'third'];
    const requests = await adapter.embeddings!.buildRequests({ model: 'titan', input, dimensions: 256 }, context);
    const responses = await Promise.all(requests.map((request) => send(request)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    const { result, usage } = adapter.embeddings!.parseResponses(responses, { model: 'titan', input }, context);
    expect(result.data.map((entry) => entry.embedding)).toEqual(input.map((text) => vectorFor(text, 256)));
    expect(usage?.inputTokens).toBe(3 + 3 + 1);
  });

  it('embeds with Cohere in one call and reads the token header', async () => {
    const context = contextFor(mock, signedKey, '', 'cohere.embed-multilingual-v3');
    const input = ['hello world', 'goodbye moon'];
    const requests = await adapter.embeddings!.buildRequests({ model: 'cohere', input }, context);
    expect(requests).toHaveLength(1);
    const responses = [await send(requests[0]!)];
    expect(responses[0]?.status).toBe(200);
    const { result } = adapter.embeddings!.parseResponses(responses, { model: 'cohere', input }, context);
    expect(result.data.map((entry) => entry.embedding)).toEqual(input.map((text) => vectorFor(text, 1024)));
    expect(result.usage.prompt_tokens).toBe(4);
  });
});
