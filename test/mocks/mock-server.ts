/**
 * The scaffolding every provider mock shares: a loopback HTTP server on an ephemeral port, the request body read
 * whole (bytes, text and JSON), counters that tests wait on instead of sleeping, and the writing of Server-Sent
 * Events, canned replies and deliberately cut streams. What a mock checks and how it answers stays in its own file.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** What every mock records of a request; each mock's type says what its `path` and `body` hold. */
export interface RecordedRequestBase {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** One request as a mock received it: the path without its query, the raw body text and its JSON. */
export interface RecordedRequest extends RecordedRequestBase {
  /** The parsed JSON body, or undefined when it was empty or not JSON. */
  body: unknown;
  rawBody: string;
}

/** What tests use of a mock that records requests and takes one-off behaviours. */
export interface RecordingMock<Behavior, Recorded> {
  baseUrl: string;
  requests: Recorded[];
  enqueue(behavior: Behavior): void;
  close(): Promise<void>;
  /** Resolves once a client has closed a connection before its response was complete. */
  whenAborted(): Promise<void>;
  /** Resolves once the mock has received at least `count` requests (so a test can act on a hanging one). */
  whenRequested(count: number): Promise<void>;
}

/** A one-off reply with this status, headers and body, instead of the mock's default answer. */
export interface CannedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A one-off reply of exactly these bytes, whatever they are: a body cut short, a proxy's HTML page, a stream of
 * garbage lines or of corrupt frames. `cut` breaks the connection after the bytes instead of ending the reply (the
 * client then sees a body that stops without its end).
 */
export interface RawReply {
  raw: string | Uint8Array;
  /** Default 200. */
  status?: number;
  /** Default `application/json`. */
  contentType?: string;
  /** Headers beside the mock's usual ones (Bedrock's token-count headers, for one). */
  headers?: Record<string, string>;
  cut?: boolean;
}

/**
 * A one-off behaviour: a canned reply, a scripted stream (whose shape is the mock's), raw bytes, or a request left
 * hanging.
 */
export type OneOffBehavior<ScriptedStream> = CannedReply | ScriptedStream | RawReply | { hang: true };

/** A request body as it arrived. */
export interface ReceivedBody {
  bytes: Buffer;
  text: string;
  /** The parsed JSON, or undefined when the body was empty or not JSON. */
  json: unknown;
}

/** The parsed JSON body; the raw text when it was not JSON; undefined when it was empty. */
export function jsonOrText(body: ReceivedBody): unknown {
  if (body.text === '') return undefined;
  return body.json === undefined ? body.text : body.json;
}

/** A mock listening on 127.0.0.1. */
export interface MockServer {
  /** `http://127.0.0.1:<port>`, or `https://…` for a mock serving TLS. */
  baseUrl: string;
  /** Stops listening, dropping open connections (a hanging request's among them). */
  close(): Promise<void>;
}

/** A certificate and key for a mock that serves HTTPS, and the loopback address it listens on (default 127.0.0.1). */
export interface MockTls {
  cert: string;
  key: string;
  host?: string;
}

/** Listens on an ephemeral loopback port, so parallel test files never compete for one. */
export async function listenOnLoopback(server: Server | HttpsServer, host = '127.0.0.1'): Promise<MockServer> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `${server instanceof HttpsServer ? 'https' : 'http'}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Without this, close() would wait for every keep-alive or hanging connection to end on its own.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a mock does with a request once its whole body has arrived. */
export type MockHandler = (request: IncomingMessage, response: ServerResponse, body: ReceivedBody) => void | Promise<void>;

/**
 * Starts a loopback server that reads each request's body whole before handing it to `handle`. A request whose
 * body breaks off is dropped: its client has gone, so there is no one to answer. A handler that throws gets its
 * connection destroyed, so the test sees a failure rather than a hang.
 */
export async function startMockServer(handle: MockHandler, tls?: MockTls): Promise<MockServer> {
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const bytes = Buffer.concat(parts);
      const text = bytes.toString('utf8');
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      void (async () => handle(request, response, { bytes, text, json }))().catch(() => response.destroy());
    });
  };
  if (tls) return listenOnLoopback(createHttpsServer({ cert: tls.cert, key: tls.key }, listener), tls.host);
  return listenOnLoopback(createServer(listener));
}

/**
 * Counts occurrences of an event (a request, a client leaving) so tests can wait on them: the n-th `next()` call
 * resolves once the n-th occurrence happened, `atLeast(count)` once `count` have.
 */
export class EventCounter {
  private seen = 0;
  private awaited = 0;
  private waiters: Array<{ target: number; resolve: () => void }> = [];

  /** Records one occurrence, releasing whoever waited for it. */
  happened(): void {
    this.seen += 1;
    const released = this.waiters.filter((waiter) => waiter.target <= this.seen);
    this.waiters = this.waiters.filter((waiter) => waiter.target > this.seen);
    for (const waiter of released) waiter.resolve();
  }

  /** Resolves on the occurrence matching this call: the first call on the first, the second on the second. */
  next(): Promise<void> {
    this.awaited += 1;
    return this.atLeast(this.awaited);
  }

  /** Resolves once `count` occurrences have happened (at once if they already have). */
  atLeast(count: number): Promise<void> {
    if (this.seen >= count) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push({ target: count, resolve }));
  }
}

/** Responses a mock cut on purpose: their close is the mock's doing, not a client leaving. */
const cutOnPurpose = new WeakSet<ServerResponse>();

/** Calls `callback` when the client leaves before the mock finished answering (and the mock did not cut it). */
export function onClientGone(response: ServerResponse, callback: () => void): void {
  response.on('close', () => {
    if (!response.writableEnded && !cutOnPurpose.has(response)) callback();
  });
}

/**
 * Writes `payload`, then breaks the connection: `destroy` resets it once the payload reached the socket (so the
 * client sees it before the break); `end` closes the socket gracefully without the chunked terminator, so the
 * client sees a body cut short.
 */
export function cutAfterWriting(response: ServerResponse, payload: string | Uint8Array, ending: 'destroy' | 'end' = 'destroy'): void {
  cutOnPurpose.add(response);
  if (ending === 'end') {
    response.write(payload);
    response.socket?.end();
    return;
  }
  response.write(payload, () => response.socket?.destroy());
}

/** One Server-Sent Event. */
export interface ServerSentEvent {
  event?: string;
  id?: string;
  /** A string is sent as is, anything else as JSON. */
  data: unknown;
}

/** The event's wire text; each line of the data becomes its own `data:` line, which SSE joins back with newlines. */
export function formatServerSentEvent(item: ServerSentEvent, lineBreak = '\n'): string {
  // String() because JSON.stringify(undefined) is undefined: such data goes out as the text `undefined`.
  const data = typeof item.data === 'string' ? item.data : String(JSON.stringify(item.data));
  const fields = [
    ...(item.event ? [`event: ${item.event}`] : []),
    ...(item.id ? [`id: ${item.id}`] : []),
    ...data.split('\n').map((line) => `data: ${line}`),
  ];
  return `${fields.join(lineBreak)}${lineBreak}${lineBreak}`;
}

/**
 * Answers 200 with already formatted events then `closing` (e.g. OpenAI's `[DONE]`); with `failAfter`, cuts the
 * connection after that many events instead, without `closing`, the way `ending` says (see `cutAfterWriting`).
 */
export function sendEventStream(
  response: ServerResponse,
  headers: OutgoingHttpHeaders,
  events: string[],
  options: { failAfter?: number | undefined; closing?: string; ending?: 'destroy' | 'end' } = {},
): void {
  response.writeHead(200, headers);
  response.flushHeaders();
  if (options.failAfter === undefined) {
    response.end(`${events.join('')}${options.closing ?? ''}`);
    return;
  }
  cutAfterWriting(response, events.slice(0, options.failAfter).join(''), options.ending);
}

/** Sends JSON with its length. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Sends a canned reply labelled by its body: an object as JSON, a string as text, nothing when absent. */
export function sendCannedByBodyType(response: ServerResponse, reply: CannedReply, headers: Record<string, string> = {}): void {
  const replyHeaders = { ...headers, ...(reply.headers ?? {}) };
  if (reply.body === undefined) {
    response.writeHead(reply.status, replyHeaders);
    response.end();
  } else if (typeof reply.body === 'string') {
    response.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', ...replyHeaders });
    response.end(reply.body);
  } else {
    sendJson(response, reply.status, reply.body, replyHeaders);
  }
}

/**
 * Sends a canned reply labelled with `headers` (a JSON content type) whatever its body: an object as JSON, a
 * string as is, an empty body when absent; the reply's own headers win.
 */
export function sendCannedAsLabelled(response: ServerResponse, reply: CannedReply, headers: Record<string, string>): void {
  const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  response.writeHead(reply.status, { ...headers, ...reply.headers });
  response.end(body);
}

/** Sends a raw reply's bytes as they are (see `RawReply`); its content type wins over the mock's usual headers. */
export function sendRaw(response: ServerResponse, reply: RawReply, headers: Record<string, string> = {}): void {
  response.writeHead(reply.status ?? 200, { ...headers, ...reply.headers, 'content-type': reply.contentType ?? 'application/json' });
  if (reply.cut === true) {
    response.flushHeaders();
    cutAfterWriting(response, reply.raw, 'end');
    return;
  }
  response.end(reply.raw);
}
