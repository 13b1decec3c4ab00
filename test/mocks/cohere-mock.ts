/**
 * A local stand-in for Cohere's v2 API on 127.0.0.1: `POST /v2/chat` (plain and SSE) and `POST /v2/embed`.
 * It checks what Cohere checks (path, bearer key, required fields, documented ranges) and answers with Cohere's
 * real shapes and event sequences. Tests can queue one-off behaviours (an error status, a scripted stream, a hang).
 */
import type { ServerResponse } from 'node:http';
import {
  EventCounter,
  formatServerSentEvent,
  onClientGone,
  sendCannedAsLabelled,
  sendEventStream,
  sendRaw,
  startMockServer,
  type OneOffBehavior,
  type RecordedRequest,
  type RecordingMock,
} from './mock-server.js';

export type { RecordedRequest } from './mock-server.js';

/** A behaviour for the next request that passes the auth check, instead of the default answer. */
export type MockBehavior = OneOffBehavior<{ streamEvents: Array<{ event?: string; data: unknown }>; failAfter?: number }>;

/** The running mock. */
export type CohereMock = RecordingMock<MockBehavior, RecordedRequest>;

type Json = Record<string, unknown>;
type Reply = { status: number; body: unknown } | { events: Array<{ event?: string; data: unknown }> };

const EMBED_INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);

/** Starts the mock on an ephemeral port. Accepted keys default to `["test-cohere-key"]`. */
export async function startCohereMock(options: { apiKeys?: string[] } = {}): Promise<CohereMock> {
  const apiKeys = new Set(options.apiKeys ?? ['test-cohere-key']);
  const requests: RecordedRequest[] = [];
  const queue: MockBehavior[] = [];
  const received = new EventCounter();
  const aborts = new EventCounter();
  let counter = 0;

  const server = await startMockServer((request, response, { text: rawBody, json: body }) => {
    const path = (request.url ?? '/').split('?')[0]!;
    requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body, rawBody });
    received.happened();
    onClientGone(response, () => aborts.happened());

    if (request.method !== 'POST' || (path !== '/v2/chat' && path !== '/v2/embed')) {
      return send(response, 404, { message: `Not Found: ${request.method} ${path}` });
    }
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !apiKeys.has(token)) {
      return send(response, 401, { id: nextId(), message: 'invalid api token' });
    }
    const queued = queue.shift();
    if (queued) return play(queued, response);
    if (body === undefined || typeof body !== 'object' || Array.isArray(body)) {
      return send(response, 400, { id: nextId(), message: 'invalid request: body must be a JSON object' });
    }
    const reply = path === '/v2/chat' ? answerChat(body as Json) : answerEmbed(body as Json);
    if ('events' in reply) return writeEvents(response, reply.events, undefined);
    return send(response, reply.status, reply.body);
  });

  function nextId(): string {
    counter += 1;
    return `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  }

  function answerChat(body: Json): Reply {
    const problem = validateChat(body);
    if (problem) return { status: 400, body: { id: nextId(), message: problem } };
    const messages = body.messages as Json[];
    const tools = (body.tools as Json[] | undefined) ?? [];
    const last = messages[messages.length - 1]!;
    const id = nextId();
    const inputTokens = Math.ceil(JSON.stringify(messages).length / 4);

    if (tools.length > 0 && body.tool_choice !== 'NONE' && last.role === 'user') {
      const tool = (tools[0]!.function ?? {}) as Json;
      const required = (((tool.parameters as Json | undefined)?.required as string[] | undefined) ?? []);
      const args = JSON.stringify(Object.fromEntries(required.map((name) => [name, 'Toronto'])));
      const call = { id: `${String(tool.name)}_${id.slice(-6)}`, type: 'function', function: { name: tool.name, arguments: args } };
      const plan = `I will use ${String(tool.name)}.`;
      const usage = makeUsage(inputTokens, 20);
      if (body.stream === true) {
        const half = Math.ceil(args.length / 2);
        return {
          events: [
            startEvent(id),
            { event: 'tool-plan-delta', data: { type: 'tool-plan-delta', delta: { message: { tool_plan: plan } } } },
            { event: 'tool-call-start', data: { type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { ...call, function: { name: tool.name, arguments: '' } } } } } },
            { event: 'tool-call-delta', data: { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: args.slice(0, half) } } } } } },
            { event: 'tool-call-delta', data: { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: args.slice(half) } } } } } },
            { event: 'tool-call-end', data: { type: 'tool-call-end', index: 0 } },
            { event: 'message-end', data: { type: 'message-end', delta: { finish_reason: 'TOOL_CALL', usage } } },
          ],
        };
      }
      return { status: 200, body: { id, finish_reason: 'TOOL_CALL', message: { role: 'assistant', tool_plan: plan, tool_calls: [call] }, usage } };
    }

    const text = last.role === 'tool' ? `The tool said: ${contentText(last.content)}` : `You said: ${contentText(last.content)}`;
    const words = text.split(/(?= )/);
    const usage = makeUsage(inputTokens, words.length);
    if (body.stream === true) {
      return {
        events: [
          startEvent(id),
          { event: 'content-start', data: { type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } } },
          ...words.map((word) => ({ event: 'content-delta', data: { type: 'content-delta', index: 0, delta: { message: { content: { text: word } } } } })),
          { event: 'content-end', data: { type: 'content-end', index: 0 } },
          { event: 'message-end', data: { type: 'message-end', delta: { finish_reason: 'COMPLETE', usage } } },
        ],
      };
    }
    return { status: 200, body: { id, finish_reason: 'COMPLETE', message: { role: 'assistant', content: [{ type: 'text', text }] }, usage } };
  }

  function answerEmbed(body: Json): Reply {
    const texts = body.texts;
    if (typeof body.model !== 'string' || body.model === '') return invalid('model is required');
    if (!Array.isArray(texts) || texts.length === 0 || texts.some((text) => typeof text !== 'string')) {
      return invalid('texts must be a non-empty array of strings');
    }
    if (texts.length > 96) return invalid(`invalid request: texts must contain at most 96 items, got ${texts.length}`);
    if (typeof body.input_type !== 'string' || !EMBED_INPUT_TYPES.has(body.input_type)) {
      return invalid('invalid request: input_type must be one of search_document, search_query, classification, clustering, image');
    }
    const types = body.embedding_types;
    if (!Array.isArray(types) || !types.includes('float')) return invalid('this mock only serves float embeddings');
    const dimension = typeof body.output_dimension === 'number' ? body.output_dimension : 3;
    const vectors = (texts as string[]).map((text, index) =>
      Array.from({ length: dimension }, (_, position) => (position === 0 ? text.length : position === 1 ? index : 0.5)),
    );
    const tokens = (texts as string[]).reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
    return {
      status: 200,
      body: {
        id: nextId(),
        embeddings: { float: vectors },
        texts,
        meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
        response_type: 'embeddings_by_type',
      },
    };
  }

  function invalid(message: string): Reply {
    return { status: 400, body: { id: nextId(), message } };
  }

  return {
    baseUrl: server.baseUrl,
    requests,
    enqueue: (behavior) => void queue.push(behavior),
    // Every call resolves once a first client has left, whatever left before: no test needs a count here.
    whenAborted: () => aborts.atLeast(1),
    whenRequested: (count) => received.atLeast(count),
    close: server.close,
  };
}

function validateChat(body: Json): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'invalid request: model must be a non-empty string';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'invalid request: messages must be a non-empty array';
  for (const [index, message] of (body.messages as Json[]).entries()) {
    if (!['system', 'user', 'assistant', 'tool'].includes(message.role as string)) return `invalid request: messages[${index}].role is invalid`;
    if (message.role === 'tool' && typeof message.tool_call_id !== 'string') return `invalid request: messages[${index}].tool_call_id is required`;
    if (message.role === 'assistant') {
      const calls = (message.tool_calls as Json[] | undefined) ?? [];
      for (const call of calls) {
        const fn = call.function as Json | undefined;
        if (typeof call.id !== 'string' || typeof fn?.name !== 'string' || typeof fn.arguments !== 'string') {
          return `invalid request: messages[${index}].tool_calls entries need id, function.name and function.arguments`;
        }
      }
      if (calls.length === 0 && (message.content === undefined || message.content === '')) {
        return `invalid request: messages[${index}] must have content or tool_calls`;
      }
    }
  }
  const tools = body.tools as Json[] | undefined;
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.some((tool) => tool.type !== 'function' || typeof (tool.function as Json | undefined)?.name !== 'string')) {
      return 'invalid request: tools must be function tools with a name';
    }
  }
  if (body.tool_choice !== undefined) {
    if (body.tool_choice !== 'REQUIRED' && body.tool_choice !== 'NONE') return 'invalid request: tool_choice must be REQUIRED or NONE';
    if (body.tool_choice === 'REQUIRED' && (tools === undefined || tools.length === 0)) return 'invalid request: tool_choice REQUIRED needs tools';
  }
  if (body.p !== undefined && (typeof body.p !== 'number' || body.p < 0.01 || body.p > 0.99)) return 'invalid request: p must be between 0.01 and 0.99';
  if (body.stop_sequences !== undefined && (!Array.isArray(body.stop_sequences) || body.stop_sequences.length > 5)) {
    return 'invalid request: stop_sequences must be a list of at most 5 strings';
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'invalid request: stream must be a boolean';
  return undefined;
}

function startEvent(id: string) {
  return {
    event: 'message-start',
    data: { id, type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } },
  };
}

function makeUsage(input: number, output: number) {
  // Cohere bills fewer input tokens than the model sees (its own prompt scaffolding is free).
  return { billed_units: { input_tokens: Math.max(1, input - 10), output_tokens: output }, tokens: { input_tokens: input, output_tokens: output } };
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: Json) => (typeof part.text === 'string' ? part.text : '')).join('');
  return '';
}

function play(behavior: MockBehavior, response: ServerResponse): void {
  if ('hang' in behavior) return;
  if ('streamEvents' in behavior) return writeEvents(response, behavior.streamEvents, behavior.failAfter);
  if ('raw' in behavior) return sendRaw(response, behavior);
  sendCannedAsLabelled(response, behavior, { 'content-type': 'application/json' });
}

function writeEvents(response: ServerResponse, events: Array<{ event?: string; data: unknown }>, failAfter: number | undefined): void {
  // A failAfter past the last event cuts nothing: the stream ends normally.
  const cut = failAfter !== undefined && failAfter < events.length ? failAfter : undefined;
  sendEventStream(response, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, events.map((item) => formatServerSentEvent(item)), { failAfter: cut });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
