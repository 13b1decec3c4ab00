/**
 * A local stand-in for OpenAI's API (and every OpenAI-compatible server), for end-to-end tests.
 *
 * It checks what the real API checks — the path, `content-type`, the bearer key (when `apiKeys` is given) and
 * the required body fields — and answers with OpenAI's real shapes, deterministically:
 * - `POST <prefix>/v1/chat/completions`: echoes the last user message as the assistant's content. With `tools` and
 *   `tool_choice` "required" or naming a function, it calls that function (or the first tool) instead, with
 *   arguments `{"input": <last user message>}`. `max_completion_tokens`/`max_tokens` cut the reply (`length`).
 *   Streamed: a first chunk with the role, one chunk per word, a finish chunk, a usage chunk only when
 *   `stream_options.include_usage` is true, then `data: [DONE]`.
 * - `POST <prefix>/v1/embeddings`: one `mockEmbedding` vector per input (8 dimensions unless `dimensions`), as floats
 *   or, with `encoding_format: "base64"`, as base64 little-endian float32.
 * - `POST <prefix>/v1/responses/input_tokens`: `{ object: "response.input_tokens", input_tokens }`, counted as a
 *   Response's usage counts its input; parameters the counter does not know are a 400 `unknown_parameter`.
 * - `POST <prefix>/v1/responses` (the Responses API, in `openai-responses-mock.ts`): refuses unknown top-level
 *   parameters (400 `unknown_parameter`), a missing `model` or `input`, `stream_options` without `stream`, and (404)
 *   a `reasoning` input item without `encrypted_content` when `store` is false. It echoes the input string, or the
 *   last `role: "user"` item's text, as a Response: a `reasoning` item first when the request has `reasoning` or the
 *   model is a reasoning one (`o<digit>…`, `gpt-5…`), with a summary when `reasoning.summary` is set and
 *   `encrypted_content` when `include` asks for it (8 reasoning tokens); then a `function_call` (same tool rule as
 *   chat, arguments `{"input": <text>}`) or a `message`, cut by `max_output_tokens` (status `incomplete`). The
 *   reply's `model` is the requested one with `-2025-04-14` appended unless it already ends in a date. Streamed:
 *   `event:` + `data:` pairs numbered by `sequence_number` from 0, from `response.created` to `response.completed`
 *   (or `response.incomplete`), with no `[DONE]`.
 * Token counts are `mockTokenCount(text)` = ceil(characters / 4): prompt tokens sum every message's text (for
 * /v1/responses: the instructions and each input item's text, function call outputs and reasoning summaries
 * included), completion tokens count the reply (or the tool call's arguments).
 * Ids are deterministic, from the mock's request counter n (rejected requests count): every reply carries
 * `x-request-id: req_<n as 32 hex digits>`; chat ids are `chatcmpl-mock<n>`, Responses ids `resp_`/`rs_`/`msg_`/`fc_`
 * + n as 32 hex digits, call ids `call_` + n as 24 hex digits.
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
  type MockTls,
  type RecordedRequestBase,
} from './mock-server.js';
import { checkInputTokensBody, checkResponsesBody, responsesInputTokens, sendResponsesReply, writeResponsesEventStream } from './openai-responses-mock.js';

/**
 * One request as the mock received it: `path` is the request target (query included); `body` the parsed JSON,
 * the raw text when it was not JSON, undefined when empty.
 */
export type RecordedRequest = RecordedRequestBase;

/**
 * Replaces the default answer of the next valid request (one that passed the path, auth and body checks):
 * - `{ status, body?, headers? }` a canned reply (an object body is sent as JSON, a string as is);
 * - `{ streamChunks, failAfter? }` a 200 SSE stream of the given chunks (objects as JSON, strings as the raw
 *   `data:` text) then `[DONE]`; with `failAfter`, the socket is destroyed after that many chunks, without `[DONE]`.
 *   On /v1/responses the chunks go out as Responses events instead: an object with a string `type` gets an
 *   `event: <type>` line, and no `[DONE]` follows;
 * - `{ raw, status?, contentType?, cut? }` exactly these bytes (see `RawReply`);
 * - `{ hang: true }` the request is accepted and never answered; `whenAborted()` tells when the client gives up.
 */
export type MockBehavior = OneOffBehavior<{ streamChunks: unknown[]; failAfter?: number }>;

/** A running mock. */
export interface OpenAIMock {
  /** `http://127.0.0.1:<port><pathPrefix>`, without `/v1` (add `/v1` for an SDK's baseURL). */
  baseUrl: string;
  /** Every request received, in order, including rejected ones. */
  requests: RecordedRequest[];
  /** Queues a behavior for the next valid request; queued behaviors are used in order. */
  enqueue(behavior: MockBehavior): void;
  /** Stops the server, dropping any hanging connection. */
  close(): Promise<void>;
  /**
   * Resolves when a hanging request's client disconnects: the first call waits for the first such disconnect,
   * the second call for the second, and so on (resolving at once if it already happened).
   */
  whenAborted(): Promise<void>;
}

export interface OpenAIMockOptions {
  /** Keys accepted as `authorization: Bearer <key>`; when absent, no auth is checked. */
  apiKeys?: string[];
  /** A path prefix before `/v1` (e.g. `/openai` to mimic Groq). */
  pathPrefix?: string;
  /** Serve HTTPS with this certificate, as every real provider does. */
  tls?: MockTls;
}

/** The fixed `created` timestamp of every mock reply. */
export const MOCK_CREATED = 1_700_000_000;

/** The mock's token count for a text: one token per four characters, rounded up. */
export function mockTokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The deterministic vector the mock returns for a text; float32-exact so base64 round trips compare equal. */
export function mockEmbedding(text: string, dimensions = 8): number[] {
  let state = 2166136261;
  for (let index = 0; index < text.length; index += 1) {
    state = Math.imul(state ^ text.charCodeAt(index), 16777619) >>> 0;
  }
  const vector: number[] = [];
  for (let index = 0; index < dimensions; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    vector.push(Math.fround((state % 2001) / 1000 - 1));
  }
  return vector;
}

/** A deterministic id: the prefix, `_`, then the mock's request counter as `digits` hex digits. */
export function mockHexId(prefix: string, sequence: number, digits = 32): string {
  return `${prefix}_${sequence.toString(16).padStart(digits, '0')}`;
}

function errorBody(message: string, type: string, param: string | null, code: string | null): unknown {
  return { error: { message, type, param, code } };
}

/** OpenAI's `invalid_request_error` body, the type of every 400/401/404 it sends (shared with the Responses part). */
export function invalid(message: string, param: string | null = null, code: string | null = null): unknown {
  return errorBody(message, 'invalid_request_error', param, code);
}

/** OpenAI shows keys masked: the start and the last four characters. */
function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

/** The text of a message's content: the string, or its parts' `text` joined (shared with the Responses part). */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
    .join('');
}

function encodeBase64Floats(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

interface ChatPlan {
  id: string;
  model: string;
  content: string | null;
  toolCall?: { id: string; name: string; arguments: string };
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Decides the deterministic answer to a valid chat request. */
function planChat(body: Record<string, unknown>, sequence: number): ChatPlan {
  const messages = body.messages as Array<Record<string, unknown>>;
  const promptTokens = messages.reduce((sum, message) => sum + mockTokenCount(messageText(message.content)), 0);
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const userText = lastUser === undefined ? '' : messageText(lastUser.content);
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ function?: { name?: string } }>) : [];
  const choice = body.tool_choice as unknown;
  const namedFunction =
    choice !== null && typeof choice === 'object' ? (choice as { function?: { name?: string } }).function?.name : undefined;
  const plan: ChatPlan = {
    id: `chatcmpl-mock${sequence}`,
    model: String(body.model),
    content: userText,
    finishReason: 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: 0 },
  };
  if (tools.length > 0 && (choice === 'required' || namedFunction !== undefined)) {
    const argumentsText = JSON.stringify({ input: userText });
    plan.content = null;
    plan.toolCall = { id: `call_mock${sequence}`, name: namedFunction ?? tools[0]?.function?.name ?? 'tool', arguments: argumentsText };
    plan.finishReason = 'tool_calls';
    plan.usage.completion_tokens = mockTokenCount(argumentsText);
  } else {
    const limit = [body.max_completion_tokens, body.max_tokens].find((value) => typeof value === 'number') as number | undefined;
    if (limit !== undefined && mockTokenCount(userText) > limit) {
      plan.content = userText.slice(0, limit * 4);
      plan.finishReason = 'length';
    }
    plan.usage.completion_tokens = mockTokenCount(plan.content ?? '');
  }
  plan.usage.total_tokens = plan.usage.prompt_tokens + plan.usage.completion_tokens;
  return plan;
}

/** Usage with the detail objects OpenAI always includes. */
function fullUsage(plan: ChatPlan): unknown {
  return {
    ...plan.usage,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function completionFromPlan(plan: ChatPlan): unknown {
  const message: Record<string, unknown> = { role: 'assistant', content: plan.content, refusal: null, annotations: [] };
  if (plan.toolCall !== undefined) {
    const { id, name, arguments: argumentsText } = plan.toolCall;
    message.tool_calls = [{ id, type: 'function', function: { name, arguments: argumentsText } }];
  }
  return {
    id: plan.id,
    object: 'chat.completion',
    created: MOCK_CREATED,
    model: plan.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
    usage: fullUsage(plan),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
}

/** The chunks OpenAI would stream for the plan, the usage chunk included only when asked for. */
function chunksFromPlan(plan: ChatPlan, includeUsage: boolean): unknown[] {
  const envelope = { id: plan.id, object: 'chat.completion.chunk', created: MOCK_CREATED, model: plan.model, system_fingerprint: 'fp_mock' };
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): unknown => ({
    ...envelope,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks: unknown[] = [];
  if (plan.toolCall !== undefined) {
    const call = plan.toolCall;
    const opening = [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }];
    chunks.push(chunk({ role: 'assistant', content: null, tool_calls: opening, refusal: null }, null));
    const third = Math.ceil(call.arguments.length / 3);
    for (let start = 0; start < call.arguments.length; start += third) {
      chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: call.arguments.slice(start, start + third) } }] }, null));
    }
  } else {
    chunks.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
    for (const word of (plan.content ?? '').match(/\S+\s*|\s+/g) ?? []) chunks.push(chunk({ content: word }, null));
  }
  chunks.push(chunk({}, plan.finishReason));
  if (includeUsage) chunks.push({ ...envelope, choices: [], usage: fullUsage(plan) });
  return chunks;
}

/** Writes SSE chunks then `[DONE]`; with `failAfter`, kills the connection after that many instead of finishing. */
function writeStream(response: ServerResponse, chunks: unknown[], requestHeaders: Record<string, string>, failAfter?: number): void {
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...requestHeaders };
  const events = chunks.map((chunk) => formatServerSentEvent({ data: chunk }));
  sendEventStream(response, headers, events, { failAfter, closing: formatServerSentEvent({ data: '[DONE]' }) });
}

/** Starts the mock on 127.0.0.1 with a free port. */
export async function startOpenAIMock(options: OpenAIMockOptions = {}): Promise<OpenAIMock> {
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '');
  const requests: RecordedRequest[] = [];
  const queue: MockBehavior[] = [];
  const aborts = new EventCounter();
  let sequence = 0;

  const handle = (request: IncomingMessage, response: ServerResponse, json: unknown, body: unknown): void => {
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    requests.push({ method, path: target, headers: request.headers, body });
    sequence += 1;
    const requestHeaders = { 'x-request-id': mockHexId('req', sequence) };

    const pathOnly = target.split('?')[0] ?? '';
    const route = pathOnly.startsWith(`${prefix}/`) ? pathOnly.slice(prefix.length) : '';
    const endpoint = `${method} ${route}`;
    const rejection = checkRequest(request, endpoint, pathOnly, json, options.apiKeys);
    if (rejection !== undefined) {
      sendJson(response, rejection.status, rejection.body, requestHeaders);
      return;
    }

    const behavior = queue.shift();
    if (behavior !== undefined) {
      if ('hang' in behavior) {
        onClientGone(response, () => aborts.happened());
        return;
      }
      if ('streamChunks' in behavior) {
        if (endpoint === 'POST /v1/responses') writeResponsesEventStream(response, behavior.streamChunks, requestHeaders, behavior.failAfter);
        else writeStream(response, behavior.streamChunks, requestHeaders, behavior.failAfter);
        return;
      }
      if ('raw' in behavior) {
        sendRaw(response, behavior, requestHeaders);
        return;
      }
      sendCannedByBodyType(response, behavior, requestHeaders);
      return;
    }

    const fields = (body ?? {}) as Record<string, unknown>;
    if (endpoint === 'GET /v1/models') {
      sendJson(response, 200, {
        object: 'list',
        data: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created: MOCK_CREATED, owned_by: 'system' })),
      }, requestHeaders);
    } else if (endpoint === 'POST /v1/embeddings') {
      sendJson(response, 200, embeddingsReply(fields), requestHeaders);
    } else if (endpoint === 'POST /v1/responses') {
      sendResponsesReply(response, fields, sequence, requestHeaders);
    } else if (endpoint === 'POST /v1/responses/input_tokens') {
      sendJson(response, 200, { object: 'response.input_tokens', input_tokens: responsesInputTokens(fields) }, requestHeaders);
    } else {
      const plan = planChat(fields, sequence);
      if (fields.stream === true) {
        const streamOptions = fields.stream_options as { include_usage?: unknown } | null | undefined;
        writeStream(response, chunksFromPlan(plan, streamOptions?.include_usage === true), requestHeaders);
      } else {
        sendJson(response, 200, completionFromPlan(plan), requestHeaders);
      }
    }
  };

  const server = await startMockServer((request, response, received) => {
    try {
      handle(request, response, received.json, jsonOrText(received));
    } catch (error) {
      if (!response.headersSent) sendJson(response, 500, errorBody(`Mock failure: ${String(error)}`, 'server_error', null, null));
      else response.destroy();
    }
  }, options.tls);

  return {
    baseUrl: `${server.baseUrl}${prefix}`,
    requests,
    enqueue(behavior) {
      queue.push(behavior);
    },
    whenAborted: () => aborts.next(),
    close: server.close,
  };
}

const NO_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";
const UNPARSABLE_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";
const ENDPOINTS = new Set(['POST /v1/chat/completions', 'POST /v1/embeddings', 'POST /v1/responses', 'POST /v1/responses/input_tokens', 'GET /v1/models']);

/** What OpenAI answers to a request it refuses (auth, URL, body), in the order it checks; undefined when acceptable. */
function checkRequest(
  request: IncomingMessage,
  endpoint: string,
  path: string,
  json: unknown,
  apiKeys: string[] | undefined,
): { status: number; body: unknown } | undefined {
  if (apiKeys !== undefined) {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    if (match === null) return { status: 401, body: invalid(NO_KEY_MESSAGE) };
    const key = match[1] ?? '';
    if (!apiKeys.includes(key)) {
      const message = `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
      return { status: 401, body: invalid(message, null, 'invalid_api_key') };
    }
  }
  if (!ENDPOINTS.has(endpoint)) {
    return { status: 404, body: invalid(`Invalid URL (${request.method ?? 'GET'} ${path})`) };
  }
  if (request.method !== 'POST') return undefined;
  const contentType = (request.headers['content-type'] ?? '').toLowerCase();
  if (!contentType.startsWith('application/json') || json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { status: 400, body: invalid(UNPARSABLE_MESSAGE) };
  }
  const fields = json as Record<string, unknown>;
  if (endpoint === 'POST /v1/responses') return checkResponsesBody(fields);
  if (endpoint === 'POST /v1/responses/input_tokens') return checkInputTokensBody(fields);
  const problem = endpoint === 'POST /v1/chat/completions' ? checkChatBody(fields) : checkEmbeddingBody(fields);
  return problem === undefined ? undefined : { status: 400, body: problem };
}

/** OpenAI's 400 for a chat body missing what it requires, or undefined when the body is acceptable. */
function checkChatBody(body: Record<string, unknown>): unknown {
  if (typeof body.model !== 'string' || body.model === '') {
    return invalid('you must provide a model parameter');
  }
  if (body.messages === undefined) {
    return invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  }
  if (!Array.isArray(body.messages)) {
    return invalid("Invalid type for 'messages': expected an array, but got a different type instead.", 'messages', 'invalid_type');
  }
  if (body.messages.length === 0) {
    const message = "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.";
    return invalid(message, 'messages', 'empty_array');
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  // OpenAI's reasoning models take only the newer name of the output limit.
  if (/^(o\d|gpt-5)/.test(body.model) && body.max_tokens !== undefined) {
    return invalid("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter');
  }
  return undefined;
}

/** OpenAI's 400 for an embeddings body missing what it requires, or undefined when the body is acceptable. */
function checkEmbeddingBody(body: Record<string, unknown>): unknown {
  if (typeof body.model !== 'string' || body.model === '') {
    return invalid('you must provide a model parameter');
  }
  if (body.input === undefined || body.input === null) {
    return invalid("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    return invalid("Invalid value for 'encoding_format': expected one of 'float' or 'base64'.", 'encoding_format', 'invalid_value');
  }
  return undefined;
}

function embeddingsReply(body: Record<string, unknown>): unknown {
  const input = body.input;
  // A flat number array is one token-id input; an array of arrays is several.
  const inputs: unknown[] = Array.isArray(input) && (input.length === 0 || typeof input[0] !== 'number') ? input : [input];
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 8;
  let promptTokens = 0;
  const data = inputs.map((item, index) => {
    const text = typeof item === 'string' ? item : JSON.stringify(item);
    promptTokens += Array.isArray(item) ? item.length : mockTokenCount(text);
    const vector = mockEmbedding(text, dimensions);
    return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? encodeBase64Floats(vector) : vector };
  });
  return { object: 'list', data, model: String(body.model), usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}
