/**
 * A local stand-in for the Bedrock runtime. It checks what the real service demands: a SigV4 signature it
 * recomputes itself from the known credentials (independently of the signer under test), the session token of
 * temporary credentials, or a Bedrock API key as a bearer token; Converse bodies that alternate roles and
 * declare a toolConfig when tool blocks are present. It answers with Converse shapes, binary event-stream
 * frames for ConverseStream, and Titan / Cohere embedding replies for InvokeModel.
 *
 * For Claude (model ids holding `anthropic.claude`: foundation models, `us.`-style inference profiles, ARNs),
 * InvokeModel (`/invoke`) and InvokeModelWithResponseStream (`/invoke-with-response-stream`) take the Anthropic
 * Messages body as Bedrock wants it (`anthropic_version: "bedrock-2023-05-31"`, no `model`, no `stream`; see
 * `bedrock-claude-invoke.ts` for the checks and the deterministic answers). InvokeModel answers an Anthropic
 * Message (`msg_bdrk_…`, the model named without `anthropic.` and `-v1:0`); the stream answers `chunk` frames
 * whose payload `{"bytes": <base64 of one Anthropic event's JSON>, "p": <padding>}` carries message_start, the
 * blocks' events, message_delta and message_stop (with `amazon-bedrock-invocationMetrics`), and no ping.
 * One-off behaviours apply to every operation; `{ claudeEvents }` scripts a Claude stream from Anthropic events.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
  claudeChunkPayload,
  claudeInvokeProblem,
  claudeInvokeReply,
  claudeStreamEvents,
  isClaudeModel,
  MOCK_INVOCATION_LATENCY,
} from './bedrock-claude-invoke.js';
import { sigV4Problem } from './sigv4-verification.js';
import { cutAfterWriting, EventCounter, onClientGone, sendCannedAsLabelled, sendRaw, startMockServer, type OneOffBehavior } from './mock-server.js';

export {
  BEDROCK_ANTHROPIC_VERSION,
  claudeInputTokens,
  claudeInvokeReply,
  claudeModelName,
  claudeStreamEvents,
  claudeTokenCount,
  isClaudeModel,
  MOCK_FIRST_BYTE_LATENCY,
  MOCK_INVOCATION_LATENCY,
  type BedrockInvocationMetrics,
  type ClaudeMessage,
} from './bedrock-claude-invoke.js';

export interface BedrockMockOptions {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  apiKeys?: string[];
  region: string;
}

/** One event-stream frame: an event (`:event-type`) or an exception (`:exception-type`). */
export interface BedrockStreamEvent {
  type: string;
  payload: unknown;
  messageType?: 'event' | 'exception';
}

/**
 * What the mock does with the next authenticated request whose body passes the checks (any operation): a canned
 * reply, raw bytes, a hang, `{ streamEvents }` raw event-stream frames (exceptions among them), or `{ claudeEvents }`
 * a Claude stream: each Anthropic event wrapped in a `chunk` frame (see `claudeChunkFrames`). With `failAfter`,
 * the connection breaks after that many frames.
 */
export type BedrockMockBehavior = OneOffBehavior<
  { streamEvents: BedrockStreamEvent[]; failAfter?: number } | { claudeEvents: Array<Record<string, unknown>>; failAfter?: number }
>;

export interface RecordedBedrockRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  operation: string | undefined;
  /** The model id, percent-decoded. */
  modelId: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface BedrockMock {
  baseUrl: string;
  requests: RecordedBedrockRequest[];
  enqueue(behavior: BedrockMockBehavior): void;
  /** Resolves with the next request the mock receives (recorded before it is authenticated). */
  nextRequest(): Promise<RecordedBedrockRequest>;
  /** Resolves when a hanging or streaming reply is abandoned by its client. */
  whenAborted(): Promise<void>;
  close(): Promise<void>;
}

class BedrockFailure {
  constructor(
    readonly status: number,
    readonly name: string,
    readonly message: string,
  ) {}
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Encodes events as Bedrock event-stream frames, with the random padding field `p` Bedrock adds. */
export function encodeBedrockFrames(events: BedrockStreamEvent[]): Uint8Array[] {
  return events.map((event) => {
    const exception = event.messageType === 'exception';
    const payload = event.payload !== null && typeof event.payload === 'object' ? { ...event.payload, p: 'abcdefghijkl' } : event.payload;
    return codec.encode({
      headers: {
        [exception ? ':exception-type' : ':event-type']: { type: 'string', value: event.type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: exception ? 'exception' : 'event' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  });
}

/** Wraps Anthropic stream events as InvokeModelWithResponseStream `chunk` events (`{ bytes: <base64 JSON> }`). */
export function claudeChunkEvents(events: Array<Record<string, unknown>>): BedrockStreamEvent[] {
  return events.map((event) => ({ type: 'chunk', payload: claudeChunkPayload(event) }));
}

/** The encoded frames of an InvokeModelWithResponseStream reply carrying these Anthropic events, for raw replies. */
export function claudeChunkFrames(events: Array<Record<string, unknown>>): Uint8Array {
  return Buffer.concat(encodeBedrockFrames(claudeChunkEvents(events)));
}

/** The events of the default streamed answer. */
export const DEFAULT_STREAM_EVENTS: BedrockStreamEvent[] = [
  { type: 'messageStart', payload: { role: 'assistant' } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hello' } } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: ' from the Bedrock mock.' } } },
  { type: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
  { type: 'messageStop', payload: { stopReason: 'end_turn' } },
  { type: 'metadata', payload: { usage: { inputTokens: 10, outputTokens: 6, totalTokens: 16 }, metrics: { latencyMs: 42 } } },
];

/** Starts the mock on 127.0.0.1 and an ephemeral port. */
export async function startBedrockMock(options: BedrockMockOptions): Promise<BedrockMock> {
  const requests: RecordedBedrockRequest[] = [];
  const queue: BedrockMockBehavior[] = [];
  const requestWaiters: Array<(request: RecordedBedrockRequest) => void> = [];
  const aborts = new EventCounter();
  const noteAbort = (): void => aborts.happened();

  const server = await startMockServer((request, response, { bytes, text, json }) => {
    try {
      handle(request, response, bytes, text, json);
    } catch (error) {
      if (error instanceof BedrockFailure) sendError(response, error);
      else sendError(response, new BedrockFailure(500, 'InternalServerException', String(error)));
    }
  });

  function handle(request: IncomingMessage, response: ServerResponse, raw: Buffer, body: string, json: unknown): void {
    const url = request.url ?? '/';
    const match = /^\/model\/([^/?]+)\/(converse-stream|converse|invoke-with-response-stream|invoke|count-tokens)(?:\?|$)/.exec(url);
    const modelId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const recorded: RecordedBedrockRequest = { method: request.method ?? '', url, operation: match?.[2], modelId, headers: request.headers, body, json };
    requests.push(recorded);
    for (const waiter of requestWaiters.splice(0)) waiter(recorded);

    authenticate(request, raw, options);
    if (request.method !== 'POST' || match === null) throw new BedrockFailure(404, 'UnknownOperationException', 'Unknown operation');
    if (json === undefined || json === null || typeof json !== 'object') {
      throw new BedrockFailure(400, 'SerializationException', 'The request body is not valid JSON.');
    }
    const operation = match[2];
    if (operation === 'count-tokens') return countTokens(response, modelId ?? '', json as Record<string, unknown>);
    if (operation === 'invoke' || operation === 'invoke-with-response-stream') validateInvoke(operation, modelId ?? '', json as Record<string, unknown>);
    else validateConverse(json as Record<string, unknown>);

    const behavior = queue.shift();
    if (behavior === undefined) return answerByDefault(response, operation ?? '', modelId ?? '', json as Record<string, unknown>);
    if ('hang' in behavior) return onClientGone(response, noteAbort);
    if ('streamEvents' in behavior) return stream(response, behavior.streamEvents, behavior.failAfter, noteAbort);
    if ('claudeEvents' in behavior) return stream(response, claudeChunkEvents(behavior.claudeEvents), behavior.failAfter, noteAbort);
    if ('raw' in behavior) return sendRaw(response, behavior, { 'x-amzn-requestid': 'mock-request' });
    sendCannedAsLabelled(response, behavior, { 'content-type': 'application/json', 'x-amzn-requestid': 'mock-request' });
  }

  return {
    baseUrl: server.baseUrl,
    requests,
    enqueue: (behavior) => queue.push(behavior),
    nextRequest: () => new Promise((resolve) => requestWaiters.push(resolve)),
    whenAborted: () => aborts.next(),
    close: server.close,
  };
}

/**
 * CountTokens as Bedrock checks it: foundation model ids of the models that support it (Anthropic's here; an
 * inference profile is refused), and an `input` holding one of `converse` (messages, system, toolConfig,
 * additionalModelRequestFields: no inferenceConfig) or `invokeModel`.
 * Counts a token per four characters of the converse input's JSON.
 */
function countTokens(response: ServerResponse, modelId: string, body: Record<string, unknown>): void {
  if (!modelId.startsWith('anthropic.')) throw new BedrockFailure(400, 'ValidationException', "The provided model doesn't support counting tokens.");
  const input = body.input as Record<string, unknown> | undefined;
  const kinds = input === undefined || input === null || typeof input !== 'object' ? [] : Object.keys(input);
  if (kinds.length !== 1 || (kinds[0] !== 'converse' && kinds[0] !== 'invokeModel')) {
    throw new BedrockFailure(400, 'ValidationException', 'input must hold exactly one of converse or invokeModel.');
  }
  const converse = input!.converse as Record<string, unknown> | undefined;
  if (converse === undefined) throw new BedrockFailure(400, 'ValidationException', 'This mock counts converse input only.');
  const unknown = Object.keys(converse).filter((key) => !['messages', 'system', 'toolConfig', 'additionalModelRequestFields'].includes(key));
  if (unknown.length > 0) throw new BedrockFailure(400, 'ValidationException', `Unknown field in input.converse: ${unknown.join(', ')}`);
  validateConverse(converse);
  response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'mock-request' });
  response.end(JSON.stringify({ inputTokens: Math.ceil(JSON.stringify(converse).length / 4) }));
}

function sendError(response: ServerResponse, failure: BedrockFailure): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(failure.status, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${failure.name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'x-amzn-requestid': 'mock-request',
  });
  response.end(JSON.stringify({ message: failure.message }));
}

function stream(response: ServerResponse, events: BedrockStreamEvent[], failAfter: number | undefined, noteAbort: () => void): void {
  onClientGone(response, noteAbort);
  response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'mock-request' });
  response.flushHeaders();
  const frames = encodeBedrockFrames(events);
  // A broken connection mid-stream: the client sees the body cut short, and the mock's own cut is no abort.
  if (failAfter !== undefined) return cutAfterWriting(response, Buffer.concat(frames.slice(0, failAfter)), 'end');
  for (const frame of frames) response.write(frame);
  response.end();
}

function answerByDefault(response: ServerResponse, operation: string, modelId: string, body: Record<string, unknown>): void {
  if (operation === 'converse-stream') return stream(response, DEFAULT_STREAM_EVENTS, undefined, () => undefined);
  if (operation === 'invoke-with-response-stream') {
    return stream(response, claudeChunkEvents(claudeStreamEvents(claudeInvokeReply(modelId, body))), undefined, () => undefined);
  }
  let reply: unknown;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': 'mock-request' };
  if (operation === 'converse') {
    reply = {
      output: { message: { role: 'assistant', content: [{ text: 'Hello from the Bedrock mock.' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 10, outputTokens: 6, totalTokens: 16 },
      metrics: { latencyMs: 42 },
    };
  } else if (isClaudeModel(modelId)) {
    const message = claudeInvokeReply(modelId, body);
    reply = message;
    // InvokeModel's own usage headers, beside the Message's usage.
    headers['x-amzn-bedrock-input-token-count'] = String(message.usage.input_tokens);
    headers['x-amzn-bedrock-output-token-count'] = String(message.usage.output_tokens);
    headers['x-amzn-bedrock-invocation-latency'] = String(MOCK_INVOCATION_LATENCY);
  } else if (modelId.includes('titan-embed')) {
    const text = String(body.inputText);
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 1024;
    const vector = vectorFor(text, dimensions);
    reply = { embedding: vector, inputTextTokenCount: wordCount(text), embeddingsByType: { float: vector } };
    headers['x-amzn-bedrock-input-token-count'] = String(wordCount(text));
  } else {
    const texts = body.texts as string[];
    reply = { id: 'mock-embed', embeddings: texts.map((text) => vectorFor(text, 1024)), texts, response_type: 'embeddings_floats' };
    headers['x-amzn-bedrock-input-token-count'] = String(texts.reduce((sum, text) => sum + wordCount(text), 0));
  }
  response.writeHead(200, headers);
  response.end(JSON.stringify(reply));
}

/** A deterministic vector whose first component identifies the text, so tests can check ordering. */
export function vectorFor(text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(text).digest().readUInt32BE(0);
  return Array.from({ length: dimensions }, (_, index) => (((seed + index * 7919) % 1000) - 500) / 1000);
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

// --- Authentication ------------------------------------------------------------------------------------

function authenticate(request: IncomingMessage, raw: Buffer, options: BedrockMockOptions): void {
  const authorization = header(request.headers, 'authorization');
  if (authorization === undefined) throw new BedrockFailure(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (authorization.startsWith('Bearer ')) {
    if (!(options.apiKeys ?? []).includes(authorization.slice('Bearer '.length))) {
      throw new BedrockFailure(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    return;
  }
  verifySignature(request, raw, options);
}

function verifySignature(request: IncomingMessage, raw: Buffer, options: BedrockMockOptions): void {
  const [path = '', query = ''] = (request.url ?? '/').split('?', 2);
  const headers: Record<string, string | undefined> = {};
  for (const name of Object.keys(request.headers)) headers[name] = header(request.headers, name);
  const problem = sigV4Problem({ method: request.method ?? 'GET', path, query, headers, body: raw }, { credentials: options.credentials, region: options.region, service: 'bedrock' });
  if (problem !== undefined) throw new BedrockFailure(problem.status, problem.code, problem.message);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

// --- Body validation ----------------------------------------------------------------------------------

function validationError(message: string): BedrockFailure {
  return new BedrockFailure(400, 'ValidationException', message);
}

function validateConverse(body: Record<string, unknown>): void {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw validationError('A conversation must start with a user message.');
  let hasToolBlocks = false;
  let previousToolUseIds = new Set<string>();
  messages.forEach((message: { role?: unknown; content?: unknown }, index) => {
    const expectedRole = index % 2 === 0 ? 'user' : 'assistant';
    if (index === 0 && message.role !== 'user') throw validationError('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    if (message.role !== expectedRole) throw validationError('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    if (!Array.isArray(message.content) || message.content.length === 0) {
      throw validationError(`The content field in the Message object at messages.${index} is empty. Add a ContentBlock object to the content field and try again.`);
    }
    const toolUseIds = new Set<string>();
    let sawToolUse = false;
    message.content.forEach((block: Record<string, any>, blockIndex: number) => {
      if (Object.keys(block).length !== 1) throw validationError(`messages.${index}.content.${blockIndex} must have exactly one member.`);
      if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
        throw validationError(`The text field in the ContentBlock object at messages.${index}.content.${blockIndex} is blank. Add text to the text field, and try again.`);
      }
      if ('text' in block && sawToolUse) throw validationError(`messages.${index}: text must come before toolUse blocks.`);
      if (block.toolUse !== undefined) {
        hasToolBlocks = sawToolUse = true;
        toolUseIds.add(String(block.toolUse.toolUseId));
      }
      if (block.toolResult !== undefined) {
        hasToolBlocks = true;
        if (!previousToolUseIds.has(String(block.toolResult.toolUseId))) {
          throw validationError(`messages.${index}.content.${blockIndex}: the toolResult id does not match a toolUse of the previous turn.`);
        }
        if (block.toolResult.status === 'error' && (block.toolResult.content ?? []).length === 0) {
          throw validationError(`messages.${index}.content.${blockIndex}: a toolResult with status error needs content.`);
        }
      }
      if (block.image !== undefined && !['png', 'jpeg', 'gif', 'webp'].includes(block.image.format)) {
        throw validationError(`messages.${index}.content.${blockIndex}: unsupported image format.`);
      }
    });
    previousToolUseIds = toolUseIds;
  });
  const toolConfig = body.toolConfig as { tools?: Array<{ toolSpec?: { name?: string } }>; toolChoice?: { tool?: { name?: string } } } | undefined;
  if (hasToolBlocks && toolConfig === undefined) {
    throw validationError('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
  }
  if (toolConfig !== undefined) {
    if (!Array.isArray(toolConfig.tools) || toolConfig.tools.length === 0) throw validationError('toolConfig.tools must not be empty.');
    const forced = toolConfig.toolChoice?.tool?.name;
    if (forced !== undefined && !toolConfig.tools.some((tool) => tool.toolSpec?.name === forced)) {
      throw validationError(`toolConfig.toolChoice names a tool that is not defined: ${forced}.`);
    }
  }
}

function validateInvoke(operation: string, modelId: string, body: Record<string, unknown>): void {
  if (isClaudeModel(modelId)) {
    const problem = claudeInvokeProblem(body);
    if (problem !== undefined) throw validationError(problem);
    return;
  }
  if (operation === 'invoke-with-response-stream') throw validationError('The model is unsupported for streaming.');
  if (modelId.includes('titan-embed')) {
    if (typeof body.inputText !== 'string' || body.inputText === '') throw validationError('inputText is required.');
    if (body.dimensions !== undefined && ![256, 512, 1024].includes(body.dimensions as number)) {
      throw validationError('dimensions must be one of 256, 512, 1024.');
    }
    return;
  }
  if (modelId.includes('cohere.embed')) {
    const texts = body.texts;
    if (!Array.isArray(texts) || texts.length === 0 || texts.length > 96) throw validationError('texts must hold 1 to 96 strings.');
    if (!['search_document', 'search_query', 'classification', 'clustering'].includes(body.input_type as string)) {
      throw validationError('input_type is required: search_document, search_query, classification or clustering.');
    }
    return;
  }
  throw validationError('The provided model identifier is invalid.');
}
