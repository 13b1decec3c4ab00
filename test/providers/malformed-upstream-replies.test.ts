/**
 * Malformed and unexpected upstream replies, for every provider family and both modes. Whatever an upstream
 * answers (a proxy's HTML page, a body cut short, JSON of the wrong shape, stream events of an unexpected shape,
 * corrupt event-stream frames, a stream that stops half-way), a client gets a status below 500 or a 502/504 in the
 * error shape, or a stream that ends cleanly (`[DONE]`, `message_stop`, or the in-stream error event as its last
 * event), and the API key's reservation is settled after each request. The key allows one request at a time, so
 * a leaked reservation would also refuse the next request with 429.
 *
 * The mocks still check what each real provider demands (path, credentials) before playing the scripted reply.
 * Beside the explicit cases, a seeded fuzz mutates each family's valid reply (a member at any depth replaced by
 * a value of another JSON type or deleted, events dropped, duplicated or garbled, bodies cut short).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdapterRegistry } from '../../src/providers/index.js';
import { createReplicateAdapterWith } from '../../src/providers/replicate/index.js';
import { startAnthropicMock, type AnthropicMock } from '../mocks/anthropic-mock.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startCohereMock, type CohereMock } from '../mocks/cohere-mock.js';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import type { RawReply } from '../mocks/mock-server.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startReplicateMock, type ReplicateMock } from '../mocks/replicate-mock.js';
import { seededRandom } from '../inference/inference-helpers.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { expectSettled, keyProviders, singleFlightApiKey } from './malformed-reply-gateway.js';
import { clone, deleteAt, json, memberPaths, mutateMember, notReplies, oddValues, parentOf, parseJson, setAt, withRawNumber, type Json, type JsonObject } from './malformed-reply-support.js';
import {
  anthropicMessage,
  anthropicStream,
  bedrockFrames,
  cohereResponse,
  cohereStream,
  converseResponse,
  converseStream,
  geminiResponse,
  geminiStream,
  googleSse,
  openaiCompletion,
  openaiStream,
  replicateStream,
  sse,
  upstreamText,
  withEvent,
  type ScriptedEvent,
} from './upstream-reply-fixtures.js';
import { createKeyPair } from './vertex-support.js';

/** One provider family under test: its model, its valid replies, and how its mock is told what to answer. */
interface Family {
  name: string;
  model: string;
  /** The text every valid reply of this family carries, to show the valid reply is translated. */
  expectedText: string;
  /** The valid non-streamed reply. */
  completion: JsonObject;
  /** The valid stream, as events. */
  stream: ScriptedEvent[];
  /**
   * Serialises a stream's events as the upstream sends them; `closed: false` leaves out a terminator that is no
   * event of its own (OpenAI's `[DONE]`).
   */
  encodeStream(events: ScriptedEvent[], closed?: boolean): string | Uint8Array;
  /** The content type its streams come with. */
  streamContentType: string;
  /** Queues the reply to the next non-streamed request. */
  answerCompletion(reply: RawReply): void;
  /** Queues the reply to the next streamed request (Replicate: the creation, the stream and its follow-up read). */
  answerStream(reply: RawReply, followUp?: RawReply): void;
  /** Upstream requests the family's mock received so far. */
  upstreamRequests(): number;
  /** Paths of members a translator cannot do without, for the "wrong type" cases (non-streamed). */
  requiredMembers: Array<Array<string | number>>;
  /** Paths to token counts in the non-streamed reply. */
  usageCounts: Array<Array<string | number>>;
  /** The index of the stream event that carries the usage, and the path to a count in its data. */
  streamUsage: { event: number; path: Array<string | number> };
  /** Streams of this family whose events have members of the wrong type where its decoder reads them. */
  oddStreams: Array<[string, ScriptedEvent[]]>;
}

/** A family whose mock answers non-streamed and streamed requests alike from its queue of replies. */
function answeredBy(mock: { enqueue(reply: RawReply): void; requests: readonly unknown[] }): Pick<Family, 'answerCompletion' | 'answerStream' | 'upstreamRequests'> {
  return { answerCompletion: (reply) => mock.enqueue(reply), answerStream: (reply) => mock.enqueue(reply), upstreamRequests: () => mock.requests.length };
}

let openaiMock: OpenAIMock;
let anthropicMock: AnthropicMock;
let googleMock: GoogleMock;
let bedrockMock: BedrockMock;
let cohereMock: CohereMock;
let replicateMock: ReplicateMock;
let tollgate: LiveGateway;
let apiKeyId: string;
let clientHeaders: Record<string, string>;
/** A Replicate prediction the mock knows, whose stream and settled reads the scripted creations point at. */
let knownPrediction: string;
const families: Family[] = [];

/** A settled prediction as Replicate answers a create with `Prefer: wait`, or a later read. */
function replicatePrediction(status: string, extra: JsonObject = {}): JsonObject {
  const base = replicateMock.baseUrl;
  return {
    id: knownPrediction,
    model: 'meta/meta-llama-3-8b-instruct',
    version: 'dp-fuzz',
    input: { prompt: 'hello', max_tokens: 64 },
    logs: '',
    output: status === 'succeeded' ? ['Hello ', 'from upstream'] : null,
    error: null,
    status,
    created_at: '2024-04-18T16:22:07.295Z',
    metrics: status === 'succeeded' ? { input_token_count: 12, output_token_count: 7, predict_time: 0.5, total_time: 0.52 } : {},
    urls: {
      cancel: `${base}/v1/predictions/${knownPrediction}/cancel`,
      get: `${base}/v1/predictions/${knownPrediction}`,
      web: `https://replicate.com/p/${knownPrediction}`,
    },
    ...extra,
  };
}

// --- The gateway and its upstreams ---------------------------------------------------------------------------

beforeAll(async () => {
  const keyPair = createKeyPair();
  openaiMock = await startOpenAIMock({ apiKeys: ['sk-openai'] });
  anthropicMock = await startAnthropicMock({ apiKeys: ['sk-ant'] });
  googleMock = await startGoogleMock({ apiKeys: ['gemini-key'], serviceAccountPublicKeyPem: keyPair.publicKeyPem });
  bedrockMock = await startBedrockMock({ credentials: { accessKeyId: 'AKIATOLLGATEFUZZ0002', secretAccessKey: 'fuzz-secret' }, apiKeys: ['bedrock-key'], region: 'us-east-1' });
  cohereMock = await startCohereMock({ apiKeys: ['cohere-key'] });
  replicateMock = await startReplicateMock({ apiKeys: ['replicate-key'] });
  // Polls answer at once: a mutated status that reads "processing" must not make the test wait on timers.
  const adapters = new Map(createAdapterRegistry());
  adapters.set('replicate', createReplicateAdapterWith({ polling: { waitBeforePoll: async () => undefined } }));
  tollgate = await startLiveGateway({ adapters });
  await keyProviders(
    tollgate,
    [
      ['openai', openaiMock.baseUrl, 'sk-openai'],
      ['anthropic', anthropicMock.baseUrl, 'sk-ant'],
      ['gemini', googleMock.baseUrl, 'gemini-key'],
      ['bedrock', bedrockMock.baseUrl, 'bedrock-key'],
      ['cohere', cohereMock.baseUrl, 'cohere-key'],
      ['replicate', replicateMock.baseUrl, 'replicate-key'],
    ],
    { googleMock, keyPair },
  );
  await useFreshApiKey();

  // A prediction made the ordinary way: scripted creations name it, so the mock serves its stream and reads.
  const warmUp = await fetch(`${tollgate.url}/v1/chat/completions`, {
    method: 'POST',
    headers: clientHeaders,
    body: JSON.stringify({ model: 'replicate/meta/meta-llama-3-8b-instruct', messages: [{ role: 'user', content: 'hello' }], stream: true }),
  });
  await warmUp.text();
  const created = replicateMock.requests.find((request) => request.method === 'POST' && request.path.endsWith('/predictions'));
  expect(created, 'the warm-up created a prediction').toBeDefined();
  // The mock numbers its predictions from 1: the warm-up's is the first.
  knownPrediction = `mockpred${String(1).padStart(18, '0')}`;

  families.push(
    {
      name: 'openai-compatible',
      model: 'openai/gpt-4o-mini',
      expectedText: upstreamText,
      completion: openaiCompletion,
      stream: openaiStream,
      encodeStream: (events, closed = true) => sse(events, '\n', closed ? 'data: [DONE]\n\n' : ''),
      streamContentType: 'text/event-stream',
      ...answeredBy(openaiMock),
      requiredMembers: [['choices'], ['choices', 0], ['choices', 0, 'message'], ['choices', 0, 'message', 'content'], ['choices', 0, 'message', 'tool_calls'], ['choices', 0, 'message', 'tool_calls', 0], ['choices', 0, 'message', 'tool_calls', 0, 'function'], ['usage']],
      usageCounts: [['usage', 'prompt_tokens'], ['usage', 'completion_tokens'], ['usage', 'prompt_tokens_details', 'cached_tokens']],
      streamUsage: { event: 6, path: ['usage', 'completion_tokens'] },
      oddStreams: [
        ['choices that hold no objects', withEvent(openaiStream, 1, (data) => (data.choices = [null]))],
        ['choices that hold numbers', withEvent(openaiStream, 2, (data) => (data.choices = [5, 'x']))],
        ['a delta that is text', withEvent(openaiStream, 2, (data) => (data.choices[0].delta = 'from upstream'))],
        ['tool calls that are a number', withEvent(openaiStream, 3, (data) => (data.choices[0].delta.tool_calls = 7))],
        ['a tool call index that is text', withEvent(openaiStream, 3, (data) => (data.choices[0].delta.tool_calls[0].index = 'first'))],
        ['a tool call function that is a list', withEvent(openaiStream, 4, (data) => (data.choices[0].delta.tool_calls[0].function = [1]))],
      ],
    },
    {
      name: 'anthropic',
      model: 'anthropic/claude-sonnet-4-5',
      expectedText: upstreamText,
      completion: anthropicMessage,
      stream: anthropicStream,
      encodeStream: (events) => sse(events),
      streamContentType: 'text/event-stream',
      ...answeredBy(anthropicMock),
      requiredMembers: [['content'], ['content', 1], ['content', 1, 'text'], ['content', 2, 'id'], ['content', 2, 'name'], ['content', 0, 'thinking'], ['usage']],
      usageCounts: [['usage', 'input_tokens'], ['usage', 'output_tokens'], ['usage', 'cache_read_input_tokens']],
      streamUsage: { event: 9, path: ['usage', 'output_tokens'] },
      oddStreams: [
        ['a tool_use block whose id is a number', withEvent(anthropicStream, 6, (data) => (data.content_block.id = 7))],
        ['a content block that is text', withEvent(anthropicStream, 1, (data) => (data.content_block = 'text'))],
        ['a delta that is null', withEvent(anthropicStream, 3, (data) => (data.delta = null))],
        ['a message_start whose message is a list', withEvent(anthropicStream, 0, (data) => (data.message = [1]))],
      ],
    },
    {
      name: 'gemini',
      model: 'gemini/gemini-2.5-flash',
      expectedText: upstreamText,
      completion: geminiResponse,
      stream: geminiStream,
      encodeStream: googleSse,
      streamContentType: 'text/event-stream',
      ...answeredBy(googleMock),
      requiredMembers: [['candidates'], ['candidates', 0], ['candidates', 0, 'content'], ['candidates', 0, 'content', 'parts'], ['candidates', 0, 'content', 'parts', 1], ['candidates', 0, 'content', 'parts', 2, 'functionCall'], ['candidates', 0, 'content', 'parts', 2, 'functionCall', 'name'], ['usageMetadata']],
      usageCounts: [['usageMetadata', 'promptTokenCount'], ['usageMetadata', 'candidatesTokenCount'], ['usageMetadata', 'thoughtsTokenCount']],
      streamUsage: { event: 2, path: ['usageMetadata', 'candidatesTokenCount'] },
      oddStreams: [
        ['candidates that are text', withEvent(geminiStream, 0, (data) => (data.candidates = 'Hello'))],
        ['parts that are a number', withEvent(geminiStream, 1, (data) => (data.candidates[0].content.parts = 3))],
        ['a candidate that is null', withEvent(geminiStream, 1, (data) => (data.candidates = [null]))],
        ['a function call that is text', withEvent(geminiStream, 2, (data) => (data.candidates[0].content.parts[0].functionCall = 'lookup'))],
        ['a record that is null', geminiStream.map((event, index) => (index === 1 ? { ...event, data: null } : event))],
      ],
    },
    {
      name: 'vertex (Gemini)',
      model: 'vertex/gemini-2.5-flash',
      expectedText: upstreamText,
      completion: geminiResponse,
      stream: geminiStream,
      encodeStream: googleSse,
      streamContentType: 'text/event-stream',
      ...answeredBy(googleMock),
      requiredMembers: [['candidates'], ['candidates', 0, 'content', 'parts'], ['usageMetadata']],
      usageCounts: [['usageMetadata', 'promptTokenCount'], ['usageMetadata', 'candidatesTokenCount']],
      streamUsage: { event: 2, path: ['usageMetadata', 'promptTokenCount'] },
      oddStreams: [['candidates that are a number', withEvent(geminiStream, 0, (data) => (data.candidates = 1))]],
    },
    {
      name: 'vertex (Claude)',
      model: 'vertex/claude-sonnet-4-5@20250929',
      expectedText: upstreamText,
      completion: anthropicMessage,
      stream: anthropicStream,
      encodeStream: googleSse,
      streamContentType: 'text/event-stream',
      ...answeredBy(googleMock),
      requiredMembers: [['content'], ['content', 1], ['content', 2, 'name'], ['usage']],
      usageCounts: [['usage', 'input_tokens'], ['usage', 'output_tokens']],
      streamUsage: { event: 0, path: ['message', 'usage', 'input_tokens'] },
      oddStreams: [['a tool_use block whose name is a list', withEvent(anthropicStream, 6, (data) => (data.content_block.name = ['lookup']))]],
    },
    {
      name: 'bedrock',
      model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0',
      expectedText: upstreamText,
      completion: converseResponse,
      stream: converseStream,
      encodeStream: bedrockFrames,
      streamContentType: 'application/vnd.amazon.eventstream',
      ...answeredBy(bedrockMock),
      requiredMembers: [['output'], ['output', 'message'], ['output', 'message', 'content'], ['output', 'message', 'content', 1], ['output', 'message', 'content', 2, 'toolUse'], ['output', 'message', 'content', 2, 'toolUse', 'name'], ['usage']],
      usageCounts: [['usage', 'inputTokens'], ['usage', 'outputTokens'], ['usage', 'cacheReadInputTokens']],
      streamUsage: { event: 8, path: ['usage', 'outputTokens'] },
      oddStreams: [
        ['a toolUse delta that is null', withEvent(converseStream, 5, (data) => (data.delta.toolUse = null))],
        ['a toolUse start whose name is a number', withEvent(converseStream, 4, (data) => (data.start.toolUse.name = 5))],
        ['an event payload that is null', converseStream.map((event, index) => (index === 1 ? { ...event, data: null } : event))],
        ['an event payload that is a list', converseStream.map((event, index) => (index === 7 ? { ...event, data: [1] } : event))],
      ],
    },
    {
      name: 'cohere',
      model: 'cohere/command-a-03-2025',
      expectedText: upstreamText,
      completion: cohereResponse,
      stream: cohereStream,
      encodeStream: (events) => sse(events),
      streamContentType: 'text/event-stream',
      ...answeredBy(cohereMock),
      requiredMembers: [['message'], ['message', 'content'], ['message', 'content', 0], ['message', 'tool_calls'], ['message', 'tool_calls', 0], ['message', 'tool_calls', 0, 'function'], ['usage'], ['finish_reason']],
      usageCounts: [['usage', 'tokens', 'input_tokens'], ['usage', 'tokens', 'output_tokens']],
      streamUsage: { event: 8, path: ['delta', 'usage', 'tokens', 'output_tokens'] },
      oddStreams: [
        ['an error message that is a number', withEvent(cohereStream, 8, (data) => (data.delta = { finish_reason: 'ERROR', error: 42 }))],
        ['a tool call id that is a number', withEvent(cohereStream, 5, (data) => (data.delta.message.tool_calls.id = 9))],
        ['an event that is null', cohereStream.map((event, index) => (index === 2 ? { ...event, data: null } : event))],
      ],
    },
    {
      name: 'replicate',
      model: 'replicate/meta/meta-llama-3-8b-instruct',
      expectedText: upstreamText,
      get completion() {
        return replicatePrediction('succeeded');
      },
      stream: replicateStream,
      encodeStream: (events) => sse(events),
      streamContentType: 'text/event-stream',
      answerCompletion: (reply) => replicateMock.enqueue({ status: 201, ...reply }),
      answerStream(reply, followUp) {
        const base = replicateMock.baseUrl;
        const creation = replicatePrediction('starting', { urls: { get: `${base}/v1/predictions/${knownPrediction}`, stream: `${base}/v1/streams/${knownPrediction}` } });
        replicateMock.enqueue({ status: 201, raw: JSON.stringify(creation) });
        replicateMock.enqueue(reply);
        if (followUp) replicateMock.enqueue(followUp);
      },
      upstreamRequests: () => replicateMock.requests.length,
      requiredMembers: [['output'], ['status'], ['id'], ['metrics'], ['urls'], ['urls', 'get']],
      usageCounts: [['metrics', 'input_token_count'], ['metrics', 'output_token_count']],
      streamUsage: { event: 3, path: ['reason'] },
      oddStreams: [
        ['a done event whose data is null', replicateStream.map((event) => (event.event === 'done' ? { ...event, data: 'null' } : event))],
        ['an error event whose data is null', [replicateStream[0]!, { event: 'error', data: 'null' }]],
      ],
    },
  );
});

/**
 * Makes the client's key a new one: each test starts with nothing held, so a reservation one test leaks fails that
 * test and no other.
 */
async function useFreshApiKey(): Promise<void> {
  const { id, secret } = await singleFlightApiKey(tollgate, 'malformed upstream replies');
  apiKeyId = id;
  clientHeaders = { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
}

beforeEach(useFreshApiKey);

afterAll(async () => {
  await tollgate?.dispose();
  await Promise.all([openaiMock?.close(), anthropicMock?.close(), googleMock?.close(), bedrockMock?.close(), cohereMock?.close(), replicateMock?.close()]);
});

function family(name: string): Family {
  const found = families.find((entry) => entry.name === name);
  if (!found) throw new Error(`no family ${name}`);
  return found;
}

// --- Requests and what their answers must look like ---------------------------------------------------------

type Route = '/v1/chat/completions' | '/v1/messages';

interface Answer {
  status: number;
  text: string;
  /** The content the client received (joined text deltas, or the message's text). */
  content: string;
}

function requestBody(route: Route, model: string, stream: boolean): Record<string, unknown> {
  const messages = [{ role: 'user', content: 'hello' }];
  if (route === '/v1/messages') return { model, max_tokens: 64, messages, ...(stream ? { stream: true } : {}) };
  return { model, max_tokens: 64, messages, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) };
}

/** Sends one request as the metered client and checks the answer's form whatever it is; the read must complete. */
async function ask(route: Route, model: string, stream: boolean, label: string, forwarded?: string): Promise<Answer> {
  const response = await fetch(`${tollgate.url}${route}`, { method: 'POST', headers: clientHeaders, body: JSON.stringify(requestBody(route, model, stream)) });
  // The read completes: a stream that never ended would hang here (and fail on the test's timeout).
  const text = await response.text();
  const context = `${label}: ${response.status} ${text.slice(0, 600)}`;
  const status = response.status;
  expect(status < 500 || status === 502 || status === 504, context).toBe(true);
  if (status !== 200) {
    const body = parseJson(text);
    expect(body, context).toMatchObject({ status_code: status, error: { message: expect.any(String), type: expect.any(String), code: expect.any(String) } });
    return { status, text, content: '' };
  }
  if (!stream) return { status, text, content: completionContent(route, text, context) };
  return { status, text, content: streamContent(route, text, context, forwarded) };
}

function completionContent(route: Route, text: string, context: string): string {
  const body = parseJson(text);
  expect(body !== null && typeof body === 'object' && !Array.isArray(body), context).toBe(true);
  if (route === '/v1/messages') {
    expect(body, context).toMatchObject({ type: 'message', content: expect.any(Array), usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) } });
    return (body.content as Array<{ type: string; text?: string }>).filter((block) => block.type === 'text').map((block) => block.text).join('');
  }
  expect(Array.isArray(body.choices), context).toBe(true);
  for (const choice of body.choices) expect(choice !== null && typeof choice === 'object' && typeof choice.message === 'object', context).toBe(true);
  const content = body.choices[0]?.message?.content;
  return typeof content === 'string' ? content : '';
}

/** The events of an SSE text, each with its name and joined data. */
function sseEvents(text: string): Array<{ event: string | undefined; data: string }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      return { event, data: data.join('\n') };
    });
}

/**
 * Checks that a stream ended cleanly: every event is JSON, the last is the terminator or the error event.
 * `forwarded`, for an OpenAI-compatible upstream on the chat route, is the upstream's stream text: Tollgate forwards
 * a chunk that needs nothing from it as the upstream's bytes, unparsed (by design, for CPU), so a data line that is
 * not JSON may reach the client, but only as the upstream sent it.
 */
function streamContent(route: Route, text: string, context: string, forwarded?: string): string {
  const events = sseEvents(text);
  expect(events.length, context).toBeGreaterThan(0);
  let content = '';
  if (route === '/v1/messages') {
    for (const item of events) {
      const data = parseJson(item.data);
      expect(data?.type, context).toBe(item.event);
      if (item.event === 'content_block_delta' && data.delta?.type === 'text_delta') content += data.delta.text;
    }
    const last = events.at(-1)!;
    expect(['message_stop', 'error'], context).toContain(last.event);
    if (last.event === 'error') expect(parseJson(last.data)?.error?.message, context).toEqual(expect.any(String));
    return content;
  }
  const last = events.at(-1)!;
  for (const item of events.slice(0, -1)) {
    const data = parseJson(item.data);
    if (data === undefined && forwarded !== undefined && forwarded.includes(`data: ${item.data}\n`)) continue;
    expect(data !== undefined && data.error === undefined, context).toBe(true);
    const delta = data?.choices?.[0]?.delta?.content;
    if (typeof delta === 'string') content += delta;
  }
  if (last.data !== '[DONE]') expect(parseJson(last.data)?.error, context).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  return content;
}

/** Usage a client is shown holds counts a client can add up: absent, or non-negative whole numbers. */
function expectSaneUsage(usage: unknown, context: string): void {
  if (usage === undefined || usage === null) return;
  const record = usage as Record<string, unknown>;
  for (const name of ['prompt_tokens', 'completion_tokens', 'total_tokens', 'input_tokens', 'output_tokens']) {
    if (name in record) expect(Number.isSafeInteger(record[name]) && (record[name] as number) >= 0, `${name} in ${context}`).toBe(true);
  }
}

/** After each request the key holds nothing: its reservation was settled, whatever the reply. */
function settled(label: string): Promise<void> {
  return expectSettled(tollgate, apiKeyId, label);
}

/** Sends a request the family's mock answers with `reply`, and checks answer and settlement. */
async function tryReply(target: Family, stream: boolean, reply: RawReply, label: string, route: Route = '/v1/chat/completions', followUp?: RawReply): Promise<Answer> {
  const before = target.upstreamRequests();
  if (stream) target.answerStream({ contentType: target.streamContentType, ...reply }, followUp);
  else target.answerCompletion(reply);
  const forwarded = stream && route === '/v1/chat/completions' && target.name === 'openai-compatible' ? Buffer.from(reply.raw).toString('utf8') : undefined;
  const answer = await ask(route, target.model, stream, `${target.name} ${label}`, forwarded);
  // The scripted reply was the one played: the upstream was asked.
  expect(target.upstreamRequests(), `${target.name} ${label}: the upstream was asked`).toBeGreaterThan(before);
  await settled(`${target.name} ${label}`);
  return answer;
}

// --- Mutations ------------------------------------------------------------------------------------------------

const garbageLines = ['garbage without a field\n\n', 'data: {not json\n\n', ': a comment\n\n', 'event: ping\n\n', 'data: [1,2]\n\n', 'data: null\n\n', 'data: "text"\n\n', 'data:\n\n', 'retry: 10\n\n', '\u0000\u0001\n\n'];

/** A stream mutated one way: an event's data changed, events dropped or duplicated, garbage, a cut. */
function mutateStream(target: Family, random: () => number): { reply: RawReply; description: string } {
  const events = clone(target.stream as unknown as Json) as unknown as ScriptedEvent[];
  const roll = random();
  const at = Math.floor(random() * events.length);
  if (roll < 0.55) {
    const event = events[at]!;
    if (typeof event.data === 'object' && event.data !== null && random() < 0.85) {
      const description = mutateMember(event.data, random);
      return { reply: { raw: target.encodeStream(events) }, description: `event ${at}: ${description}` };
    }
    event.data = clone(oddValues[Math.floor(random() * oddValues.length)]!);
    return { reply: { raw: target.encodeStream(events) }, description: `event ${at} data = ${JSON.stringify(event.data)}` };
  }
  if (roll < 0.65) {
    events.splice(at, 1);
    return { reply: { raw: target.encodeStream(events) }, description: `dropped event ${at}` };
  }
  if (roll < 0.7) {
    events.splice(at, 0, clone(events[at] as unknown as Json) as unknown as ScriptedEvent);
    return { reply: { raw: target.encodeStream(events) }, description: `duplicated event ${at}` };
  }
  const encoded = target.encodeStream(events);
  const bytes = typeof encoded === 'string' ? Buffer.from(encoded) : Buffer.from(encoded);
  const position = Math.floor(random() * bytes.length);
  if (roll < 0.8) return { reply: { raw: bytes.subarray(0, position) }, description: `cut short at byte ${position}` };
  if (roll < 0.85) return { reply: { raw: bytes.subarray(0, position), cut: true }, description: `connection broken at byte ${position}` };
  if (target.name === 'bedrock' || roll < 0.92) {
    const flipped = Buffer.from(bytes);
    flipped[position] = flipped[position]! ^ (1 + Math.floor(random() * 255));
    return { reply: { raw: flipped }, description: `byte ${position} flipped` };
  }
  const garbage = garbageLines[Math.floor(random() * garbageLines.length)]!;
  const blocks = bytes.toString('utf8').split(/(?<=\n\n|\r\n\r\n)/);
  blocks.splice(at, 0, garbage);
  return { reply: { raw: blocks.join('') }, description: `garbage ${JSON.stringify(garbage)} before event ${at}` };
}

/** A non-streamed reply mutated one way: members changed or deleted, or its text cut short. */
function mutateCompletion(target: Family, random: () => number): { reply: RawReply; description: string } {
  const body = clone(target.completion);
  const roll = random();
  if (roll < 0.12) {
    const text = JSON.stringify(body);
    const position = Math.floor(random() * text.length);
    return { reply: { raw: text.slice(0, position) }, description: `cut short at ${position}` };
  }
  const descriptions: string[] = [];
  for (let change = 0; change < 1 + Math.floor(random() * 2); change += 1) descriptions.push(mutateMember(body, random));
  return { reply: json(body), description: descriptions.join('; ') };
}

// --- The cases ------------------------------------------------------------------------------------------------

const familyNames = ['openai-compatible', 'anthropic', 'gemini', 'vertex (Gemini)', 'vertex (Claude)', 'bedrock', 'cohere', 'replicate'];
const wrongTypes: Json[] = ['a string', 42, null, [1, 2, 3], {}];

describe.each(familyNames)('%s', (name) => {
  it('translates the valid reply, streamed and not, on both routes', async () => {
    const target = family(name);
    for (const route of ['/v1/chat/completions', '/v1/messages'] as const) {
      const plain = await tryReply(target, false, json(target.completion), 'valid reply', route);
      expect(plain.status, plain.text).toBe(200);
      expect(plain.content, plain.text).toContain(target.expectedText);
      const streamed = await tryReply(target, true, { raw: target.encodeStream(target.stream) }, 'valid stream', route);
      expect(streamed.status, streamed.text).toBe(200);
      expect(streamed.content, streamed.text).toBe(target.expectedText);
    }
  });

  it('still serves a reply that is odd but usable: unknown members everywhere, nulls where values may be absent', async () => {
    const target = family(name);
    const body = clone(target.completion);
    for (const path of memberPaths(body)) {
      const { parent, key } = parentOf(body, path);
      const value = parent[key];
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) value.some_new_member = { kind: 'future', values: [1, 'two'] };
    }
    body.some_new_member = 'future';
    const answer = await tryReply(target, false, json(body), 'unknown members');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.content, answer.text).toContain(target.expectedText);
    const events = clone(target.stream as unknown as Json) as unknown as ScriptedEvent[];
    for (const event of events) if (event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data)) event.data.some_new_member = [null, { a: 1 }];
    const streamed = await tryReply(target, true, { raw: target.encodeStream([...events, { event: 'some_new_event', data: { type: 'some_new_event' } }]) }, 'unknown members and events');
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.content, streamed.text).toBe(target.expectedText);
  });

  it('answers bodies that are not the reply with a 502 in the error shape', async () => {
    const target = family(name);
    const cases = notReplies(JSON.stringify(target.completion));
    for (const [label, reply] of cases) {
      for (const route of ['/v1/chat/completions', '/v1/messages'] as const) {
        const answer = await tryReply(target, false, reply, `${label} (${route})`, route);
        expect(answer.status, `${label}: ${answer.text}`).toBe(502);
      }
    }
  });

  it('answers required members of the wrong type with a 502, never a 500', async () => {
    const target = family(name);
    for (const path of target.requiredMembers) {
      for (const value of wrongTypes) {
        const body = clone(target.completion);
        setAt(body, path, clone(value));
        for (const route of ['/v1/chat/completions', '/v1/messages'] as const) {
          await tryReply(target, false, json(body), `${path.join('.')} = ${JSON.stringify(value)} (${route})`, route);
        }
      }
    }
  });

  it('meters token counts that are negative, infinite, strings or huge as unreported, and settles', async () => {
    const target = family(name);
    for (const path of target.usageCounts) {
      for (const number of ['-5', '1e999', '-1e999', '"12"', '1e300', '9007199254740993', '12.5']) {
        const answer = await tryReply(target, false, { raw: withRawNumber(target.completion, path, number) }, `${path.join('.')} = ${number}`);
        expect(answer.status === 200 || answer.status === 502, answer.text).toBe(true);
        if (answer.status === 200) expectSaneUsage(parseJson(answer.text)?.usage, answer.text);
      }
    }
    // Replicate's stream carries no counts: its follow-up read does (see below).
    if (name === 'replicate') return;
    const marker = 987_654_321;
    for (const number of ['-5', '1e999', '"12"', '1e300']) {
      const usage = target.streamUsage;
      const literal = JSON.parse(number) as Json;
      const binary = name === 'bedrock';
      // A number that JSON cannot carry (1e999) is spliced into the encoded text; frames are checksummed, so not there.
      if (binary && typeof literal === 'number' && !Number.isFinite(literal)) continue;
      const events = target.stream.map((event, index) => {
        if (index !== usage.event || event.data === null || typeof event.data !== 'object') return event;
        const data = clone(event.data);
        setAt(data, usage.path, binary ? literal : marker);
        return { ...event, data };
      });
      const encoded = target.encodeStream(events);
      const raw = typeof encoded === 'string' ? encoded.replace(String(marker), number) : encoded;
      const answer = await tryReply(target, true, { raw }, `stream usage ${usage.path.join('.')} = ${number}`);
      if (answer.status === 200) {
        for (const item of sseEvents(answer.text)) {
          const data = parseJson(item.data);
          if (data?.usage) expectSaneUsage(data.usage, answer.text);
        }
      }
    }
  });

  it('ends a stream cleanly whatever arrives: garbage, events of unexpected shape, a stream that stops half-way', async () => {
    const target = family(name);
    const bytes = Buffer.from(target.encodeStream(target.stream, false));
    // The last two events: Bedrock's usage (metadata) follows its end (messageStop), which a client needs.
    const withoutLast = target.encodeStream(target.stream.slice(0, -2), false);
    const halfway = target.encodeStream(target.stream.slice(0, Math.ceil(target.stream.length / 2)), false);
    const cases: Array<[string, RawReply]> = [
      ['an HTML page', { raw: '<html><body>upstream down</body></html>', contentType: 'text/html' }],
      ['an empty stream', { raw: '' }],
      ['garbage lines', { raw: 'garbage\n\nmore garbage\r\n\r\n\u0000\u0001\u0002\n\n' }],
      ['events that are not JSON', { raw: target.encodeStream(target.stream.map((event) => ({ ...event, data: '{not json' }))) }],
      ['events of unexpected shape', { raw: target.encodeStream(target.stream.map((event, index) => ({ ...event, data: clone(wrongTypes[index % wrongTypes.length]!) }))) }],
      ['a stream without its final events', { raw: withoutLast }],
      ['a stream that stops half-way', { raw: halfway }],
      ['a stream broken off half-way', { raw: bytes.subarray(0, Math.floor(bytes.length / 2)), cut: true }],
      ['a stream cut inside an event', { raw: bytes.subarray(0, Math.floor(bytes.length / 2) + 3) }],
    ];
    if (name === 'bedrock') {
      const frames = target.stream.map((event) => bedrockFrames([event]));
      const corrupt = frames.map((frame, index) => {
        if (index !== 2) return frame;
        const copy = Buffer.from(frame);
        copy[copy.length - 6] = copy[copy.length - 6]! ^ 0xff;
        return copy;
      });
      const badLength = Buffer.from(frames[0]!);
      badLength.writeUInt32BE(7, 0);
      cases.push(['a frame with a wrong checksum', { raw: Buffer.concat(corrupt) }], ['a frame with an impossible length', { raw: Buffer.concat([badLength, ...frames.slice(1)]) }]);
    }
    // What is certainly not a whole reply must not look like one: the client is told the stream failed.
    const incomplete = new Set(['an empty stream', 'garbage lines', 'events that are not JSON', 'a stream without its final events', 'a stream that stops half-way', 'a stream broken off half-way', 'a stream cut inside an event', 'a frame with a wrong checksum', 'a frame with an impossible length']);
    for (const [label, events] of target.oddStreams) cases.push([label, { raw: target.encodeStream(events) }]);
    for (const [label, reply] of cases) {
      for (const route of ['/v1/chat/completions', '/v1/messages'] as const) {
        const answer = await tryReply(target, true, reply, `${label} (${route})`, route);
        // Replicate's output events carry plain text, and its done event data it may not explain.
        const plainText = name === 'replicate' && label === 'events that are not JSON';
        if (answer.status === 200 && incomplete.has(label) && !plainText) expect(answer.text, label).not.toMatch(/data: \[DONE\]\n\n$|event: message_stop/);
      }
    }
  });
});

describe('Replicate follow-up reads', () => {
  it('settles when the prediction read after the stream is malformed', async () => {
    const target = family('replicate');
    const valid = { raw: target.encodeStream(target.stream) };
    const followUps: Array<[string, RawReply]> = [
      ['not JSON', { raw: '<html></html>', contentType: 'text/html' }],
      ['null', { raw: 'null' }],
      ['negative counts', json(replicatePrediction('succeeded', { metrics: { input_token_count: -5, output_token_count: -1 } }))],
      ['string counts', json(replicatePrediction('succeeded', { metrics: { input_token_count: '12', output_token_count: '7' } }))],
      ['huge counts', json(replicatePrediction('succeeded', { metrics: { input_token_count: 1e300, output_token_count: 1e300 } }))],
      ['metrics of the wrong type', json(replicatePrediction('succeeded', { metrics: [1, 2] }))],
      ['an unknown status', json(replicatePrediction('exploded'))],
    ];
    for (const [label, followUp] of followUps) {
      const answer = await tryReply(target, true, valid, `follow-up ${label}`, '/v1/chat/completions', followUp);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.content).toBe(upstreamText);
    }
  });
});

describe('a seeded fuzz of upstream replies', () => {
  const rounds = 110;
  const targets = familyNames.flatMap((name, index) => [[name, false, index] as const, [name, true, index] as const]);

  it.each(targets)('%s (stream: %s): mutations of the valid reply get a sound answer and settle', async (name, stream, index) => {
    const target = family(name);
    const random = seededRandom(1_000 + index * 2 + (stream ? 1 : 0));
    const statuses = new Map<number, number>();
    for (let round = 0; round < rounds; round += 1) {
      const route: Route = random() < 0.25 ? '/v1/messages' : '/v1/chat/completions';
      let followUp: RawReply | undefined;
      let mutation: { reply: RawReply; description: string };
      if (stream && name === 'replicate' && random() < 0.3) {
        // The prediction read after the stream's end carries the token counts: its reply is mutated instead.
        const read = clone(replicatePrediction('succeeded'));
        const description = mutateMember(read, random);
        mutation = { reply: { raw: target.encodeStream(target.stream) }, description: `follow-up read: ${description}` };
        followUp = json(read);
      } else {
        mutation = stream ? mutateStream(target, random) : mutateCompletion(target, random);
      }
      const answer = await tryReply(target, stream, mutation.reply, `round ${round} (${route}): ${mutation.description}`, route, followUp);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    // Both kinds of answer were exercised: mutations that stay usable, and refusals.
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
  });
});
