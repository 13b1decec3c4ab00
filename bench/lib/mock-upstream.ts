/**
 * The benchmark's upstream: an OpenAI-style chat completions server on bare node:http, built to cost as little
 * as possible so that what the benchmark measures is the gateway in front of it.
 *
 * - `POST <any prefix>/v1/chat/completions`: a fixed completion (usage included) for the requested model; with
 *   `"stream":true`, an SSE stream of `streamChunks` content chunks, a finish chunk, a usage chunk and
 *   `data: [DONE]`, each written separately.
 * - `GET /stats`: how many chat requests were answered (the bench checks that gateways really went upstream).
 * Answers are prepared once per model; the request body is read in full (large prompts cost the upstream what
 * they cost a real server to receive) but only searched, not parsed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockUpstreamOptions {
  /** Fixed delay before answering (ms); 0 answers at once. */
  delayMs?: number;
  /** Delay between stream chunks (ms); 0 writes them back to back. */
  chunkDelayMs?: number;
  /** Content chunks per stream (the finish and usage chunks come on top). */
  streamChunks?: number;
  /**
   * Each content chunk's text is `@` and the moment it is written (`process.hrtime.bigint()`, ns): a client on the
   * same machine reads the same monotonic clock, so it can tell how long each chunk took to reach it
   * (bench/open-streams.ts).
   */
  stampChunks?: boolean;
}

export interface MockUpstream {
  server: Server;
  port: number;
  /** Chat requests answered so far. */
  served(): number;
  close(): Promise<void>;
}

interface PreparedAnswer {
  completion: Buffer;
  streamEvents: Buffer[];
  /** A content chunk's event text, split where its stamp goes (with `stampChunks`). */
  stampedEvent: { first: [string, string]; next: [string, string] };
}

const CREATED = 1_700_000_000;
const MODEL_MARK = Buffer.from('"model":"');
const STREAM_MARK = Buffer.from('"stream":true');
const QUOTE = 0x22;
const WORD = 'lorem ';

function prepare(model: string, streamChunks: number): PreparedAnswer {
  const content = WORD.repeat(streamChunks).trimEnd();
  const usage = {
    prompt_tokens: 12,
    completion_tokens: streamChunks,
    total_tokens: 12 + streamChunks,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  const completion = Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_bench',
    }),
  );
  const envelope = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model, system_fingerprint: 'fp_bench' };
  const event = (value: unknown) => Buffer.from(`data: ${JSON.stringify(value)}\n\n`);
  const streamEvents: Buffer[] = [];
  for (let index = 0; index < streamChunks; index += 1) {
    const delta = index === 0 ? { role: 'assistant', content: WORD } : { content: index === streamChunks - 1 ? WORD.trimEnd() : WORD };
    streamEvents.push(event({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], usage: null }));
  }
  streamEvents.push(event({ ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null }));
  streamEvents.push(event({ ...envelope, choices: [], usage }));
  streamEvents.push(Buffer.from('data: [DONE]\n\n'));
  const STAMP = '\u0000';
  const split = (delta: Record<string, string>): [string, string] => {
    const text = `data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], usage: null })}\n\n`;
    const at = text.indexOf('\\u0000');
    return [text.slice(0, at), text.slice(at + 6)];
  };
  const stampedEvent = { first: split({ role: 'assistant', content: `@${STAMP}` }), next: split({ content: `@${STAMP}` }) };
  return { completion, streamEvents, stampedEvent };
}

function modelOf(body: Buffer): string {
  const at = body.indexOf(MODEL_MARK);
  if (at < 0) return 'unknown';
  const start = at + MODEL_MARK.length;
  const end = body.indexOf(QUOTE, start);
  return end < 0 ? 'unknown' : body.toString('utf8', start, end);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    request.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the mock on 127.0.0.1 (port 0 picks a free one). */
export async function startMockUpstream(port = 0, options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const delayMs = options.delayMs ?? 0;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const streamChunks = options.streamChunks ?? 20;
  const stampChunks = options.stampChunks ?? false;
  const answers = new Map<string, PreparedAnswer>();
  let served = 0;

  const answer = (model: string): PreparedAnswer => {
    let prepared = answers.get(model);
    if (!prepared) {
      prepared = prepare(model, streamChunks);
      answers.set(model, prepared);
    }
    return prepared;
  };

  const writeStream = async (response: ServerResponse, prepared: PreparedAnswer) => {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const [index, event] of prepared.streamEvents.entries()) {
      if (response.destroyed) return;
      if (chunkDelayMs > 0) await sleep(chunkDelayMs);
      if (stampChunks && index < streamChunks) {
        const [before, after] = index === 0 ? prepared.stampedEvent.first : prepared.stampedEvent.next;
        response.write(`${before}${process.hrtime.bigint()}${after}`);
      } else {
        response.write(event);
      }
    }
    response.end();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' && request.url === '/stats') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ served }));
      return;
    }
    if (request.method !== 'POST' || !request.url?.endsWith('/v1/chat/completions')) {
      request.resume();
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
      return;
    }
    const body = await readBody(request);
    const prepared = answer(modelOf(body));
    if (delayMs > 0) await sleep(delayMs);
    served += 1;
    if (body.indexOf(STREAM_MARK) >= 0) {
      await writeStream(response, prepared);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': prepared.completion.length });
    response.end(prepared.completion);
  };

  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  server.headersTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
