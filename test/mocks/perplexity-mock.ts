/**
 * Perplexity's Sonar API for end-to-end tests: the OpenAI mock behind a front that serves Perplexity's own path.
 * Perplexity answers chat at `POST /chat/completions` (no `/v1` segment) and has no embeddings endpoint, so the
 * front accepts only that path (404 in OpenAI's error shape otherwise) and forwards it to the wrapped OpenAI mock's
 * `/v1/chat/completions`, streams and all. Behaviours are queued on the wrapped mock (`inner.enqueue`).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './mock-server.js';
import { startOpenAIMock, type OpenAIMock, type OpenAIMockOptions } from './openai-mock.js';

export interface PerplexityMock {
  /** `http://127.0.0.1:<port>`: Perplexity's base URL (chat is `<baseUrl>/chat/completions`). */
  baseUrl: string;
  /** Method and path of every request the front received, rejected ones included. */
  paths: string[];
  /** The wrapped OpenAI mock: its requests (as forwarded) and its queue. */
  inner: OpenAIMock;
  close(): Promise<void>;
}

/** Starts the front and the wrapped OpenAI mock on free loopback ports. */
export async function startPerplexityMock(options: Omit<OpenAIMockOptions, 'pathPrefix'> = {}): Promise<PerplexityMock> {
  const inner = await startOpenAIMock(options);
  const innerUrl = new URL(inner.baseUrl);
  const paths: string[] = [];

  const forward = (request: IncomingMessage, response: ServerResponse): void => {
    const upstream = httpRequest(
      {
        host: innerUrl.hostname,
        port: innerUrl.port,
        method: request.method,
        path: '/v1/chat/completions',
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        // A stream the wrapped mock cut short must look cut short to the client too.
        answer.on('aborted', () => response.destroy());
        answer.on('error', () => response.destroy());
      },
    );
    upstream.on('error', () => response.destroy());
    // A client that gives up must be seen as gone by the wrapped mock (its whenAborted).
    response.on('close', () => {
      if (!response.writableEnded) upstream.destroy();
    });
    request.pipe(upstream);
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '';
    paths.push(`${request.method ?? 'GET'} ${path}`);
    if (request.method === 'POST' && path === '/chat/completions') {
      forward(request, response);
      return;
    }
    request.resume();
    const body = JSON.stringify({ error: { message: `Invalid URL (${request.method ?? 'GET'} ${path})`, type: 'invalid_request_error', param: null, code: null } });
    response.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  const front = await listenOnLoopback(server);
  return {
    baseUrl: front.baseUrl,
    paths,
    inner,
    async close() {
      await front.close();
      await inner.close();
    },
  };
}
