/**
 * A local stand-in for Cohere's v2 API on 127.0.0.1: `POST /v2/chat` (plain and SSE) and `POST /v2/embed`.
 * It checks what Cohere checks (path, bearer key, required fields, documented ranges) and answers with Cohere's
 * real shapes and event sequences. Tests can queue one-off behaviours (an error status, a scripted stream, a hang).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the mock received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when it was empty or not JSON. */
  body: unknown;
  rawBody: string;
}

/** A behaviour for the next request that passes the auth check, instead of the default answer. */
export type MockBehavior =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { streamEvents: Array<{ event?: string; data: unknown }>; failAfter?: number }
  | { hang: true };

export interface CohereMock {
  baseUrl: string;
  requests: RecordedRequest[];
  enqueue(behavior: MockBehavior): void;
  close(): Promise<void>;
  /** Resolves once a client has closed a connection before its response was complete. */
  whenAborted(): Promise<void>;
  /** Resolves once the mock has received at least `count` requests (so a test can act on a hanging one). */
  whenRequested(count: number): Promise<void>;
}

type Json = Record<string, unknown>;
type Reply = { status: number; body: unknown } | { events: Array<{ event?: string; data: unknown }> };

/** Responses the mock cut on purpose (`failAfter`): their close is not a client abort. */
const cutOnPurpose = new WeakSet<ServerResponse>();

const EMBED_INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);

/** Starts the mock on an ephemeral port. Accepted keys default to `["test-cohere-key"]`. */
export async function startCohereMock(options: { apiKeys?: string[] } = {}): Promise<CohereMock> {
  const apiKeys = new Set(options.apiKeys ?? ['test-cohere-key']);
  const requests: RecordedRequest[] = [];
  const queue: MockBehavior[] = [];
  let signalAborted: () => void = () => {};
  const aborted = new Promise<void>((resolve) => (signalAborted = resolve));
  let counter = 0;
  const requestWaiters: Array<{ count: number; resolve: () => void }> = [];

  const server = createServer((request, response) => {
    void readBody(request).then((rawBody) => {
      let body: unknown;
      try {
        body = rawBody === '' ? undefined : JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const path = (request.url ?? '/').split('?')[0]!;
      requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body, rawBody });
      for (const waiter of requestWaiters.filter((item) => requests.length >= item.count)) waiter.resolve();
      response.on('close', () => {
        if (!response.writableFinished && !cutOnPurpose.has(response)) signalAborted();
      });

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

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (behavior) => void queue.push(behavior),
    whenAborted: () => aborted,
    whenRequested: (count) =>
      requests.length >= count ? Promise.resolve() : new Promise<void>((resolve) => requestWaiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
  const body = behavior.body === undefined ? '' : typeof behavior.body === 'string' ? behavior.body : JSON.stringify(behavior.body);
  response.writeHead(behavior.status, { 'content-type': 'application/json', ...behavior.headers });
  response.end(body);
}

function writeEvents(response: ServerResponse, events: Array<{ event?: string; data: unknown }>, failAfter: number | undefined): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [index, item] of events.entries()) {
    if (failAfter !== undefined && index >= failAfter) {
      cutOnPurpose.add(response);
      // Cut only once what was written has reached the socket, so the client sees the partial stream.
      response.write('', () => response.destroy());
      return;
    }
    const data = typeof item.data === 'string' ? item.data : JSON.stringify(item.data);
    response.write(`${item.event ? `event: ${item.event}\n` : ''}data: ${data}\n\n`);
  }
  response.end();
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    request.on('error', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}
