/**
 * The provider families the malformed upstream reply tests go through: for each, its model, its valid replies and
 * streams, how its mock is told what to answer, and where in its replies the members a translator needs are.
 */
import type { AnthropicMock } from '../mocks/anthropic-mock.js';
import type { AzureMock } from '../mocks/azure-mock.js';
import type { BedrockMock } from '../mocks/bedrock-mock.js';
import type { CohereMock } from '../mocks/cohere-mock.js';
import type { GoogleMock } from '../mocks/google-mock.js';
import type { RawReply } from '../mocks/mock-server.js';
import type { OpenAIMock } from '../mocks/openai-mock.js';
import type { ReplicateMock } from '../mocks/replicate-mock.js';
import type { Route } from './malformed-reply-checks.js';
import type { JsonObject } from './malformed-reply-support.js';
import {
  anthropicMessage,
  anthropicStream,
  bedrockFrames,
  claudeChunkFramesOf,
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
  responsesReply,
  responsesStream,
  sse,
  upstreamText,
  withEvent,
  type ScriptedEvent,
} from './upstream-reply-fixtures.js';

/** One provider family under test: its model, its valid replies, and how its mock is told what to answer. */
export interface ReplyFamily {
  name: string;
  model: string;
  /** The routes whose requests this family's replies answer (default: every chat route). */
  routes?: readonly Route[];
  /**
   * The family's replies reach the client as the upstream wrote them (a native request): a stream is checked to be
   * the upstream's events as sent, each once and in order, then the upstream's end or an error event.
   */
  native?: boolean;
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

/** The mocks that stand in for each family's upstream, and the Replicate prediction scripted replies name. */
export interface ReplyUpstreams {
  openaiMock: OpenAIMock;
  azureMock: AzureMock;
  anthropicMock: AnthropicMock;
  googleMock: GoogleMock;
  bedrockMock: BedrockMock;
  cohereMock: CohereMock;
  replicateMock: ReplicateMock;
  /** A prediction the Replicate mock knows, whose stream and settled reads the scripted creations point at. */
  knownPrediction: string;
}

/** A family whose mock answers non-streamed and streamed requests alike from its queue of replies. */
function answeredBy(mock: { enqueue(reply: RawReply): void; requests: readonly unknown[] }): Pick<ReplyFamily, 'answerCompletion' | 'answerStream' | 'upstreamRequests'> {
  return { answerCompletion: (reply) => mock.enqueue(reply), answerStream: (reply) => mock.enqueue(reply), upstreamRequests: () => mock.requests.length };
}

/** Builds a Replicate prediction in some status, as a create or a read answers it. */
export type ReplicatePrediction = (status: string, extra?: JsonObject) => JsonObject;

/**
 * Builds settled predictions as Replicate answers a create with `Prefer: wait`, or a later read, all naming
 * `knownPrediction` on the mock at `baseUrl` (the one prediction whose stream and reads the mock serves).
 */
export function replicatePredictionsOf(baseUrl: string, knownPrediction: string): ReplicatePrediction {
  return function replicatePrediction(status: string, extra: JsonObject = {}): JsonObject {
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
        cancel: `${baseUrl}/v1/predictions/${knownPrediction}/cancel`,
        get: `${baseUrl}/v1/predictions/${knownPrediction}`,
        web: `https://replicate.com/p/${knownPrediction}`,
      },
      ...extra,
    };
  };
}

/** A family answering `/v1/responses` natively with OpenAI's Responses API (OpenAI's own, or Azure's v1 API), through `mock`. */
function responsesFamily(name: string, model: string, mock: Parameters<typeof answeredBy>[0]): ReplyFamily {
  return {
    name,
    model,
    routes: ['/v1/responses'],
    native: true,
    expectedText: upstreamText,
    completion: responsesReply,
    stream: responsesStream,
    encodeStream: (events) => sse(events),
    streamContentType: 'text/event-stream',
    ...answeredBy(mock),
    requiredMembers: [['id'], ['object'], ['status'], ['model'], ['output'], ['output', 1], ['output', 1, 'content'], ['output', 1, 'content', 0], ['output', 1, 'content', 0, 'text'], ['output', 2, 'call_id'], ['output', 2, 'arguments'], ['usage']],
    usageCounts: [['usage', 'input_tokens'], ['usage', 'output_tokens'], ['usage', 'input_tokens_details', 'cached_tokens'], ['usage', 'output_tokens_details', 'reasoning_tokens']],
    streamUsage: { event: 13, path: ['response', 'usage', 'output_tokens'] },
    oddStreams: [
      ['an output item that is text', withEvent(responsesStream, 2, (data) => (data.item = 'message'))],
      ['a delta that is a number', withEvent(responsesStream, 4, (data) => (data.delta = 5))],
      ['a completed response whose output is null', withEvent(responsesStream, 13, (data) => (data.response.output = null))],
      ['an event without its sequence number', withEvent(responsesStream, 5, (data) => delete data.sequence_number)],
      ['a first event that is not response.created', responsesStream.slice(1)],
    ],
  };
}

/** A family answered in Anthropic's Messages format (Anthropic's own API, or an Azure resource's Claude deployment), through `mock`. */
function anthropicFamily(name: string, model: string, mock: Parameters<typeof answeredBy>[0]): ReplyFamily {
  return {
    name,
    model,
    expectedText: upstreamText,
    completion: anthropicMessage,
    stream: anthropicStream,
    encodeStream: (events) => sse(events),
    streamContentType: 'text/event-stream',
    ...answeredBy(mock),
    requiredMembers: [['content'], ['content', 1], ['content', 1, 'text'], ['content', 2, 'id'], ['content', 2, 'name'], ['content', 0, 'thinking'], ['usage']],
    usageCounts: [['usage', 'input_tokens'], ['usage', 'output_tokens'], ['usage', 'cache_read_input_tokens']],
    streamUsage: { event: 9, path: ['usage', 'output_tokens'] },
    oddStreams: [
      ['a tool_use block whose id is a number', withEvent(anthropicStream, 6, (data) => (data.content_block.id = 7))],
      ['a content block that is text', withEvent(anthropicStream, 1, (data) => (data.content_block = 'text'))],
      ['a delta that is null', withEvent(anthropicStream, 3, (data) => (data.delta = null))],
      ['a message_start whose message is a list', withEvent(anthropicStream, 0, (data) => (data.message = [1]))],
    ],
  };
}

/** Every family under test, each answered by its mock among `upstreams`. */
export function malformedReplyFamilies(upstreams: ReplyUpstreams): ReplyFamily[] {
  const { openaiMock, azureMock, anthropicMock, googleMock, bedrockMock, cohereMock, replicateMock, knownPrediction } = upstreams;
  const replicatePrediction = replicatePredictionsOf(replicateMock.baseUrl, knownPrediction);
  return [
    {
      // A custom provider on OpenAI's adapter: chat completions on every route (OpenAI's own takes /v1/responses natively).
      name: 'openai-compatible',
      model: 'compatible/gpt-4o-mini',
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
    responsesFamily('openai (Responses)', 'openai/gpt-4o-mini', openaiMock),
    // A key on Azure's v1 API takes a Responses request as written too, through Azure's /openai/v1/responses.
    responsesFamily('azure (Responses, v1)', 'azure/gpt-4o-mini', azureMock),
    anthropicFamily('anthropic', 'anthropic/claude-sonnet-4-5', anthropicMock),
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
      // Claude on Bedrock answers /v1/messages through InvokeModel, in Anthropic's format (the family below).
      name: 'bedrock',
      model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0',
      routes: ['/v1/chat/completions', '/v1/responses'],
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
      name: 'bedrock (Claude, Messages)',
      model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0',
      routes: ['/v1/messages'],
      native: true,
      expectedText: upstreamText,
      completion: anthropicMessage,
      stream: anthropicStream,
      encodeStream: claudeChunkFramesOf,
      streamContentType: 'application/vnd.amazon.eventstream',
      ...answeredBy(bedrockMock),
      requiredMembers: [['content'], ['content', 1], ['content', 1, 'text'], ['content', 2, 'id'], ['content', 2, 'name'], ['usage']],
      usageCounts: [['usage', 'input_tokens'], ['usage', 'output_tokens'], ['usage', 'cache_read_input_tokens']],
      streamUsage: { event: 9, path: ['usage', 'output_tokens'] },
      oddStreams: [
        ['a tool_use block whose id is a number', withEvent(anthropicStream, 6, (data) => (data.content_block.id = 7))],
        ['a message_start whose message is a list', withEvent(anthropicStream, 0, (data) => (data.message = [1]))],
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
    // An Azure resource's Claude deployment answers in Anthropic's format, under /anthropic.
    anthropicFamily('azure (Claude)', 'azure/claude-sonnet-4-5', claudeOn(azureMock)),
  ];
}

/** What answers under `/anthropic` on an Azure mock started with `claude`. */
function claudeOn(mock: AzureMock): NonNullable<AzureMock['claude']> {
  if (mock.claude === undefined) throw new Error('The Azure mock serves no Claude deployments: start it with `claude: true`.');
  return mock.claude;
}
