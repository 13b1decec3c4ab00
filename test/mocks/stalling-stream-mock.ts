/**
 * An OpenAI-compatible upstream whose chat streams start and then stall: for tests of a client that gives up
 * mid-stream. Every `POST /v1/chat/completions` gets a 200 event stream with a role chunk and the given words,
 * then nothing more until the client disconnects; `whenAborted()` tells when that happened, and `whenStreaming()`
 * when a stream has sent its first chunks (so a test never guesses with a sleep). Other paths answer 404.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { EventCounter, formatServerSentEvent, onClientGone, startMockServer } from './mock-server.js';

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

/**
 * Answers 200 with an OpenAI chat stream of a role chunk and `words`, then stalls without usage or end (an
 * upstream cut off mid-reply has none to send): `streaming` hears once the chunks reached the socket, `aborted`
 * when the client left.
 */
export function writeStallingStream(
  response: ServerResponse,
  model: string,
  words: string[],
  counters: { streaming: EventCounter; aborted: EventCounter },
): void {
  const envelope = { id: 'chatcmpl-stall', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const chunks = [
    { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...words.map((word) => ({ ...envelope, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
  ];
  onClientGone(response, () => counters.aborted.happened());
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  response.write(chunks.map((chunk) => formatServerSentEvent({ data: chunk })).join(''), () => counters.streaming.happened());
}

/** Starts the mock on an ephemeral loopback port; streams carry `words` (default `first `, `words `). */
export async function startStallingStreamMock(options: { words?: string[] } = {}): Promise<StallingStreamMock> {
  const words = options.words ?? ['first ', 'words '];
  const requests: StallingStreamMock['requests'] = [];
  const counters = { streaming: new EventCounter(), aborted: new EventCounter() };
  const server = await startMockServer((request, response, { json }) => {
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } }));
      return;
    }
    requests.push({ headers: request.headers, body: json });
    writeStallingStream(response, (json as { model?: string } | undefined)?.model ?? 'model', words, counters);
  });
  return {
    baseUrl: server.baseUrl,
    requests,
    whenStreaming: () => counters.streaming.next(),
    whenAborted: () => counters.aborted.next(),
    close: server.close,
  };
}
