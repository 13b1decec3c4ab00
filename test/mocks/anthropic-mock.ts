/**
 * A local stand-in for Anthropic's Messages API, for end-to-end tests.
 *
 * It checks what the real API checks — `POST /v1/messages`, an API key (`x-api-key`, or `authorization: Bearer`
 * as newer SDKs send it), the `anthropic-version` header, a JSON body with `model`, `max_tokens` and `messages`
 * whose roles alternate and start with `user`, no `system` role inside `messages`, tool results answering the
 * previous turn's tool calls, non-empty text blocks, `temperature` within 0..1 and not beside `top_p` — and
 * answers with Anthropic's real error body `{type: "error", error: {type, message}}` otherwise.
 *
 * Valid requests are answered deterministically: the last user text is echoed; with `tools` and `tool_choice`
 * `any` or `tool`, a `tool_use` block calls that tool (or the first) with `{"input": <last user text>}`.
 * `max_tokens` cuts the echo (`max_tokens`), a matching `stop_sequences` entry ends it (`stop_sequence`).
 * Token counts are ceil(characters / 4). Prompt caching is simulated: the prompt up to the last `cache_control`
 * marker is written to the cache on first sight (`cache_creation_input_tokens`) and read on later requests
 * (`cache_read_input_tokens`); `input_tokens` counts the rest. Streams follow the real event sequence:
 * message_start, ping, content_block_start, content_block_delta (repeated), content_block_stop, message_delta,
 * message_stop.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  EventCounter,
  formatServerSentEvent,
  jsonOrText,
  onClientGone,
  sendCannedByBodyType,
  sendEventStream,
  sendJson,
  sendRaw,
  startMockServer,
  type OneOffBehavior,
  type RecordedRequestBase,
} from './mock-server.js';

/**
 * One request as the mock received it: `path` is the request target (query included); `body` the parsed JSON,
 * the raw text when it was not JSON, undefined when empty.
 */
export type RecordedRequest = RecordedRequestBase;

/**
 * Replaces the answer to the next valid request:
 * - `{ status, body?, headers? }` a canned reply (an object body is sent as JSON, a string as is);
 * - `{ streamEvents, failAfter? }` a 200 SSE stream of `event: <event>\ndata: <json>` events (a string `data` is
 *   sent as is); with `failAfter`, the socket is destroyed after that many events;
 * - `{ raw, status?, contentType?, cut? }` exactly these bytes (see `RawReply`);
 * - `{ hang: true }` the request is never answered; `whenAborted()` tells when the client gives up.
 */
export type AnthropicMockBehavior = OneOffBehavior<{ streamEvents: Array<{ event: string; data: unknown }>; failAfter?: number }>;

export interface AnthropicMock {
  /** `http://127.0.0.1:<port>`, the SDK's `baseURL` (the SDK appends `/v1/messages`). */
  baseUrl: string;
  /** Every request received, in order, including rejected ones. */
  requests: RecordedRequest[];
  enqueue(behavior: AnthropicMockBehavior): void;
  close(): Promise<void>;
  /** Resolves when a hanging request's client disconnects (the n-th call waits for the n-th disconnect). */
  whenAborted(): Promise<void>;
}

export interface AnthropicMockOptions {
  /** Keys accepted; when absent any non-empty key is accepted. */
  apiKeys?: string[];
  /**
   * The path the API is served under (Claude in Microsoft Foundry serves it under `/anthropic`:
   * `https://<resource>.services.ai.azure.com/anthropic/v1/messages`); a request outside it is a 404. Default: none.
   */
  pathPrefix?: string;
  /**
   * Decides whether a credential (`x-api-key`, or a bearer token) is accepted, in place of `apiKeys`: for a host that
   * serves the API beside its own credentials (an Azure resource accepts the tokens its Entra ID issues).
   */
  authorize?: (credential: string) => boolean;
}

/** The mock's request handling, to be served by its own server (`startAnthropicMock`) or under another mock's. */
export interface AnthropicMockHandler {
  handle(request: IncomingMessage, response: ServerResponse, body: unknown): void;
  requests: RecordedRequest[];
  enqueue(behavior: AnthropicMockBehavior): void;
  whenAborted(): Promise<void>;
}

/** The mock's token count for a text. */
export function mockTokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

type Json = Record<string, unknown>;

function errorBody(type: string, message: string, sequence: number): Json {
  return { type: 'error', error: { type, message }, request_id: `req_mock${sequence}` };
}

/** True for a JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A message's content as blocks: a string is one text block. */
export function blocksOf(content: unknown): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isRecord) : [];
}

/** Text a block contributes to the prompt (tool results and tool inputs count too). */
export function blockText(block: Json): string {
  if (typeof block.text === 'string') return block.text;
  if (block.type === 'tool_result') return blocksOf(block.content).map(blockText).join('');
  if (block.type === 'tool_use') return JSON.stringify(block.input ?? {});
  return '';
}

/** The first problem the real API would report for this body, if any. */
function checkBody(body: Json): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: Field required';
  if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 1)) return 'temperature: range: 0..1';
  if (body.temperature !== undefined && body.top_p !== undefined) {
    return '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
  }
  const messages = body.messages as unknown[];
  for (const [index, message] of messages.entries()) {
    if (!isRecord(message)) return `messages.${index}: Input should be a valid dictionary`;
    if (message.role === 'system') {
      return 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.';
    }
    if (message.role !== 'user' && message.role !== 'assistant') return `messages.${index}.role: Input should be 'user' or 'assistant'`;
    if (index === 0 && message.role !== 'user') return 'messages: first message must use the "user" role';
    const previous = messages[index - 1] as Json | undefined;
    if (previous !== undefined && previous.role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${String(message.role)}" roles in a row`;
    }
    const blocks = blocksOf(message.content);
    for (const [blockIndex, block] of blocks.entries()) {
      if (block.type === 'text' && block.text === '') return `messages.${index}.content.${blockIndex}.text: text content blocks must be non-empty`;
      if (block.type === 'tool_result') {
        const calls = previous === undefined ? [] : blocksOf(previous.content).filter((item) => item.type === 'tool_use').map((item) => item.id);
        if (!calls.includes(block.tool_use_id)) {
          return `messages.${index}.content.${blockIndex}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
      }
    }
  }
  return undefined;
}

interface Plan {
  id: string;
  model: string;
  content: Json[];
  stopReason: string;
  stopSequence: string | null;
  usage: { input_tokens: number; output_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number };
}

function planReply(body: Json, sequence: number, cachedPrefixes: Set<string>): Plan {
  const messages = body.messages as Json[];
  const segments: Array<{ text: string; cached: boolean }> = [];
  for (const tool of Array.isArray(body.tools) ? body.tools.filter(isRecord) : []) {
    segments.push({ text: JSON.stringify(tool.input_schema ?? {}) + String(tool.name ?? ''), cached: isRecord(tool.cache_control) });
  }
  for (const block of blocksOf(body.system)) segments.push({ text: blockText(block), cached: isRecord(block.cache_control) });
  for (const message of messages) {
    for (const block of blocksOf(message.content)) segments.push({ text: blockText(block), cached: isRecord(block.cache_control) });
  }
  const total = segments.reduce((sum, segment) => sum + mockTokenCount(segment.text), 0);
  const lastMarker = segments.map((segment) => segment.cached).lastIndexOf(true);
  const usage = { input_tokens: total, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (lastMarker >= 0) {
    const prefix = segments.slice(0, lastMarker + 1);
    const prefixTokens = prefix.reduce((sum, segment) => sum + mockTokenCount(segment.text), 0);
    const key = JSON.stringify(prefix.map((segment) => segment.text));
    if (cachedPrefixes.has(key)) usage.cache_read_input_tokens = prefixTokens;
    else usage.cache_creation_input_tokens = prefixTokens;
    cachedPrefixes.add(key);
    usage.input_tokens = total - prefixTokens;
  }
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const userText = lastUser === undefined ? '' : blocksOf(lastUser.content).map(blockText).join('');
  const plan: Plan = { id: `msg_mock${sequence}`, model: String(body.model), content: [], stopReason: 'end_turn', stopSequence: null, usage };
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const choice = isRecord(body.tool_choice) ? body.tool_choice : {};
  if (tools.length > 0 && (choice.type === 'any' || choice.type === 'tool')) {
    const name = choice.type === 'tool' ? String(choice.name) : String(tools[0]?.name ?? 'tool');
    const input = { input: userText };
    plan.content.push({ type: 'tool_use', id: `toolu_mock${sequence}`, name, input });
    plan.stopReason = 'tool_use';
    usage.output_tokens = mockTokenCount(JSON.stringify(input));
    return plan;
  }
  let text = userText;
  const stops = Array.isArray(body.stop_sequences) ? body.stop_sequences.filter((item): item is string => typeof item === 'string') : [];
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0) {
      text = text.slice(0, at);
      plan.stopReason = 'stop_sequence';
      plan.stopSequence = stop;
    }
  }
  const limit = body.max_tokens as number;
  if (mockTokenCount(text) > limit) {
    text = text.slice(0, limit * 4);
    plan.stopReason = 'max_tokens';
    plan.stopSequence = null;
  }
  plan.content.push({ type: 'text', text });
  usage.output_tokens = mockTokenCount(text);
  return plan;
}

function messageOf(plan: Plan, content: Json[], usage: Json): Json {
  return { id: plan.id, type: 'message', role: 'assistant', model: plan.model, content, stop_reason: null, stop_sequence: null, usage };
}

/** The events Anthropic streams for the plan. */
function eventsOf(plan: Plan): Array<{ event: string; data: unknown }> {
  const events: Array<{ event: string; data: unknown }> = [];
  const add = (event: string, data: Json): void => {
    events.push({ event, data: { type: event, ...data } });
  };
  add('message_start', { message: messageOf(plan, [], { ...plan.usage, output_tokens: 1 }) });
  add('ping', {});
  plan.content.forEach((block, index) => {
    if (block.type === 'tool_use') {
      add('content_block_start', { index, content_block: { ...block, input: {} } });
      const json = JSON.stringify(block.input);
      const third = Math.ceil(json.length / 3);
      add('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (let start = 0; start < json.length; start += third) {
        add('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(start, start + third) } });
      }
    } else {
      add('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const word of String(block.text).match(/\S+\s*|\s+/g) ?? []) {
        add('content_block_delta', { index, delta: { type: 'text_delta', text: word } });
      }
    }
    add('content_block_stop', { index });
  });
  add('message_delta', { delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence }, usage: { output_tokens: plan.usage.output_tokens } });
  add('message_stop', {});
  return events;
}

function writeStream(response: ServerResponse, events: Array<{ event: string; data: unknown }>, headers: Record<string, string>, failAfter?: number): void {
  const streamHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers };
  sendEventStream(response, streamHeaders, events.map((item) => formatServerSentEvent(item)), { failAfter });
}

/** The mock's handler, without a server. */
export function createAnthropicMockHandler(options: AnthropicMockOptions = {}): AnthropicMockHandler {
  const requests: RecordedRequest[] = [];
  const queue: AnthropicMockBehavior[] = [];
  const cachedPrefixes = new Set<string>();
  const aborts = new EventCounter();
  let sequence = 0;

  const handle = (request: IncomingMessage, response: ServerResponse, body: unknown): void => {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    requests.push({ method, path, headers: request.headers, body });
    sequence += 1;
    const headers = { 'request-id': `req_mock${sequence}` };
    const fail = (status: number, type: string, message: string): void => sendJson(response, status, errorBody(type, message, sequence), headers);

    const prefix = options.pathPrefix ?? '';
    const target = path.split('?')[0] ?? '';
    const endpoint = target.startsWith(`${prefix}/`) ? target.slice(prefix.length) : undefined;
    if (method !== 'POST' || (endpoint !== '/v1/messages' && endpoint !== '/v1/messages/count_tokens')) return fail(404, 'not_found_error', 'Not Found');
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const key = (request.headers['x-api-key'] as string | undefined) ?? bearer;
    if (key === undefined || key === '') return fail(401, 'authentication_error', 'x-api-key header is required');
    const accepted = options.authorize !== undefined ? options.authorize(key) : options.apiKeys === undefined || options.apiKeys.includes(key);
    if (!accepted) return fail(401, 'authentication_error', 'invalid x-api-key');
    if (request.headers['anthropic-version'] === undefined) return fail(400, 'invalid_request_error', 'anthropic-version: header is required');
    // Betas are published as name-YYYY-MM-DD; the API refuses a name it does not know, which here is any other form.
    const betas = String(request.headers['anthropic-beta'] ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
    const unsupported = betas.find((name) => !/^[a-z0-9]+(?:-[a-z0-9]+)*-\d{4}-\d{2}-\d{2}$/.test(name));
    if (unsupported !== undefined) return fail(400, 'invalid_request_error', `Unsupported beta header: ${unsupported}`);
    if (endpoint === '/v1/messages/count_tokens') {
      if (!isRecord(body)) return fail(400, 'invalid_request_error', 'There was an error parsing the body of your request.');
      // The count takes the Messages body without the reply's settings.
      if (body.max_tokens !== undefined) return fail(400, 'invalid_request_error', 'max_tokens: Extra inputs are not permitted');
      const problem = checkBody({ ...body, max_tokens: 1 });
      if (problem !== undefined) return fail(400, 'invalid_request_error', problem);
      const counted = queue.shift();
      if (counted !== undefined && !('hang' in counted) && !('streamEvents' in counted)) {
        return 'raw' in counted ? sendRaw(response, counted, headers) : sendCannedByBodyType(response, counted, headers);
      }
      const usage = planReply(body, sequence, new Set()).usage;
      return sendJson(response, 200, { input_tokens: usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens }, headers);
    }
    if (!isRecord(body)) return fail(400, 'invalid_request_error', 'There was an error parsing the body of your request.');
    const problem = checkBody(body);
    if (problem !== undefined) return fail(400, 'invalid_request_error', problem);

    const behavior = queue.shift();
    if (behavior !== undefined && 'hang' in behavior) return onClientGone(response, () => aborts.happened());
    if (behavior !== undefined && 'streamEvents' in behavior) return writeStream(response, behavior.streamEvents, headers, behavior.failAfter);
    if (behavior !== undefined && 'raw' in behavior) return sendRaw(response, behavior, headers);
    if (behavior !== undefined) return sendCannedByBodyType(response, behavior, headers);
    const plan = planReply(body, sequence, cachedPrefixes);
    if (body.stream === true) return writeStream(response, eventsOf(plan), headers);
    const message = messageOf(plan, plan.content, plan.usage);
    sendJson(response, 200, { ...message, stop_reason: plan.stopReason, stop_sequence: plan.stopSequence }, headers);
  };

  return {
    handle(request, response, body) {
      try {
        handle(request, response, body);
      } catch (error) {
        if (!response.headersSent) sendJson(response, 500, errorBody('api_error', String(error), sequence), {});
      }
    },
    requests,
    enqueue(behavior) {
      queue.push(behavior);
    },
    whenAborted: () => aborts.next(),
  };
}

/** Starts the mock on 127.0.0.1 with a free port. */
export async function startAnthropicMock(options: AnthropicMockOptions = {}): Promise<AnthropicMock> {
  const handler = createAnthropicMockHandler(options);
  const server = await startMockServer((request, response, received) => handler.handle(request, response, jsonOrText(received)));
  return { baseUrl: server.baseUrl, requests: handler.requests, enqueue: handler.enqueue, close: server.close, whenAborted: handler.whenAborted };
}
