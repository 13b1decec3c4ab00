/**
 * An OpenAI-compatible upstream whose chat streams start and then stall: for tests of a client that gives up
 * mid-stream. Every `POST /v1/chat/completions` gets a 200 event stream with a role chunk and the given words,
 * then nothing more until the client disconnects; `whenAborted()` tells when that happened, and `whenStreaming()`
 * when a stream has sent its first chunks (so a test never guesses with a sleep). Other paths answer 404.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StallingStreamMock {
  /** `http://127.0.0.1:<port>`, without `/v1`. */
  baseUrl: string;
  /** Headers and JSON bodies of the requests received. */
  requests: Array<{ headers: IncomingHttpHeaders; body: unknown }>;
  /** Resolves when the n-th stream (counting calls) has sent its first chunks. */
  whenStreaming(): Promise<void>;
  /** Resolves when the n-th stalled stream's client disconnected (counting calls). */
  whenAborted(): Promise<void>;
  close(): Promise<void>;
}

/** A counter whose n-th `next()` call resolves once the n-th event happened. */
function eventCounter(): { happened(): void; next(): Promise<void> } {
  let seen = 0;
  let awaited = 0;
  const waiters: Array<{ target: number; resolve: () => void }> = [];
  return {
    happened() {
      seen += 1;
      for (const waiter of waiters.filter((entry) => entry.target <= seen)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    next() {
      awaited += 1;
      const target = awaited;
      if (seen >= target) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ target, resolve }));
    },
  };
}

export async function startStallingStreamMock(options: { words?: string[] } = {}): Promise<StallingStreamMock> {
  const words = options.words ?? ['first ', 'words '];
  const requests: StallingStreamMock['requests'] = [];
  const streaming = eventCounter();
  const aborted = eventCounter();
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { model?: string };
      requests.push({ headers: request.headers, body });
      const envelope = { id: 'chatcmpl-stall', object: 'chat.completion.chunk', created: 1_700_000_000, model: body.model ?? 'model' };
      const chunks = [
        { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
        ...words.map((word) => ({ ...envelope, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
      ];
      response.on('close', () => {
        if (!response.writableEnded) aborted.happened();
      });
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      response.write(chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join(''), () => streaming.happened());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    whenStreaming: () => streaming.next(),
    whenAborted: () => aborted.next(),
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
