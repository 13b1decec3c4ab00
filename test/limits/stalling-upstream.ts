/**
 * An OpenAI-compatible upstream whose chat streams send a role chunk and a few words, then stall until the
 * client leaves: for a client that aborts mid-stream. `whenStreaming()` resolves when the n-th stream has sent
 * its first chunks and `whenAborted()` when the n-th stalled stream's client disconnected, so tests wait on
 * those events and never on a timer. It sends no usage, as an upstream cut off mid-reply has none to send.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StallingUpstream {
  /** `http://127.0.0.1:<port>`, without `/v1`. */
  baseUrl: string;
  whenStreaming(): Promise<void>;
  whenAborted(): Promise<void>;
  close(): Promise<void>;
}

function events(): { happened(): void; next(): Promise<void> } {
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

export async function startStallingUpstream(): Promise<StallingUpstream> {
  const streaming = events();
  const aborted = events();
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as { model?: string };
      const envelope = { id: 'chatcmpl-stall', object: 'chat.completion.chunk', created: 1_700_000_000, model: body.model ?? 'model' };
      const chunks = [
        { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
        { ...envelope, choices: [{ index: 0, delta: { content: 'partial ' }, finish_reason: null }] },
        { ...envelope, choices: [{ index: 0, delta: { content: 'answer ' }, finish_reason: null }] },
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
    whenStreaming: () => streaming.next(),
    whenAborted: () => aborted.next(),
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
