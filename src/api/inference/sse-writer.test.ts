import { EventEmitter, once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseWriter } from './sse-writer.js';

/** What the writer does to a response, recorded; `write` answers as `accepts` says (false: the buffer is full). */
class RecordingResponse extends EventEmitter {
  calls: Array<{ method: string; text?: string }> = [];
  accepts = true;
  writableEnded = false;
  destroyed = false;

  writeHead(status: number) {
    this.calls.push({ method: 'writeHead', text: String(status) });
    return this;
  }

  flushHeaders() {
    this.calls.push({ method: 'flushHeaders' });
  }

  write(text: string) {
    this.calls.push({ method: 'write', text });
    return this.accepts;
  }

  end(text?: string) {
    this.writableEnded = true;
    this.calls.push(text === undefined ? { method: 'end' } : { method: 'end', text });
    return this;
  }

  sent(): string[] {
    return this.calls.filter((call) => call.method !== 'writeHead').map((call) => (call.text === undefined ? call.method : `${call.method}:${call.text}`));
  }
}

function writerFor(response: RecordingResponse): SseWriter {
  return new SseWriter(response as unknown as ServerResponse);
}

/** Resolves at the end of the current turn of the event loop (after the immediates queued so far). */
function afterTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves after the ticks queued so far have run: still within the turn. */
function afterQueuedTicks(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

describe('SseWriter', () => {
  it('sends the events of one turn and the headers in one write at the end of the turn', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({ 'x-request-id': 'r1' });
    expect(writer.write('data: 1\n\n')).toBe(true);
    await Promise.resolve();
    expect(writer.write('data: 2\n\n')).toBe(true);
    expect(response.sent()).toEqual([]);
    await afterTurn();
    expect(response.sent()).toEqual(['write:data: 1\n\ndata: 2\n\n']);
  });

  it('holds events written a few ticks before the end of the same turn and sends them with the terminator in one call', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    writer.write('data: 1\n\n');
    // What the relay does after the last upstream read: notice the body's end a few ticks (and promises) later.
    await afterQueuedTicks();
    await Promise.resolve();
    await afterQueuedTicks();
    expect(response.sent()).toEqual([]);
    writer.end('data: [DONE]\n\n');
    await afterTurn();
    expect(response.sent()).toEqual(['end:data: 1\n\ndata: [DONE]\n\n']);
  });

  it('sends queued text at once when it outgrows the batch, without waiting for the end of the turn', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    const large = `data: ${'x'.repeat(70 * 1024)}\n\n`;
    writer.write('data: 1\n\n');
    writer.write(large);
    expect(response.sent()).toEqual([`write:data: 1\n\n${large}`]);
    writer.write('data: 2\n\n');
    await afterTurn();
    expect(response.sent()).toEqual([`write:data: 1\n\n${large}`, 'write:data: 2\n\n']);
  });

  it('flushes the headers at the end of the opening turn when no event is ready, then sends each later turn at its end', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    await afterTurn();
    expect(response.sent()).toEqual(['flushHeaders']);
    writer.write('data: late\n\n');
    await afterTurn();
    writer.write('data: later\n\n');
    await afterTurn();
    expect(response.sent()).toEqual(['flushHeaders', 'write:data: late\n\n', 'write:data: later\n\n']);
  });

  it('ends with what is still queued and the final text in one call', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    writer.write('data: 1\n\n');
    writer.end('data: [DONE]\n\n');
    await afterTurn();
    expect(response.sent()).toEqual(['end:data: 1\n\ndata: [DONE]\n\n']);
    writer.write('data: after the end\n\n');
    writer.end('again');
    await afterTurn();
    expect(response.sent()).toHaveLength(1);
  });

  it('reports a full buffer, holds further text until drain, and then sends it', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    response.accepts = false;
    expect(writer.write('data: 1\n\n')).toBe(true);
    await afterTurn();
    expect(writer.write('data: 2\n\n')).toBe(false);
    let drained = false;
    const waiting = writer.drained().then(() => {
      drained = true;
    });
    await afterTurn();
    expect(response.sent()).toEqual(['write:data: 1\n\n']);
    expect(drained).toBe(false);
    response.accepts = true;
    response.emit('drain');
    await waiting;
    expect(response.sent()).toEqual(['write:data: 1\n\n', 'write:data: 2\n\n']);
    expect(writer.write('data: 3\n\n')).toBe(true);
  });

  it('stops waiting and drops queued text when the client goes away', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    response.accepts = false;
    writer.write('data: 1\n\n');
    await afterTurn();
    writer.write('data: 2\n\n');
    const waiting = writer.drained();
    response.destroyed = true;
    response.emit('close');
    await waiting;
    expect(writer.closed).toBe(true);
    expect(writer.write('data: 3\n\n')).toBe(true);
    await afterTurn();
    expect(response.sent()).toEqual(['write:data: 1\n\n']);
  });
});

describe('SseWriter on a real connection', () => {
  const servers: Array<ReturnType<typeof createServer>> = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function serve(handler: (response: ServerResponse) => Promise<void>): Promise<IncomingMessage> {
    const server = createServer((_request, response) => {
      void handler(response);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const request = httpRequest({ host: '127.0.0.1', port, path: '/' });
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    return response;
  }

  it('lets the client see the stream start before the first event exists', async () => {
    let sendFirst = () => {};
    const firstReady = new Promise<void>((resolve) => {
      sendFirst = resolve;
    });
    const response = await serve(async (raw) => {
      const writer = new SseWriter(raw);
      writer.open({ 'x-test': 'open' });
      await firstReady;
      writer.write('data: 1\n\n');
      writer.end('data: [DONE]\n\n');
    });
    // Reaching here means the headers arrived while the handler still waited for its first event.
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['x-test']).toBe('open');
    sendFirst();
    response.setEncoding('utf8');
    let body = '';
    for await (const part of response) body += part;
    expect(body).toBe('data: 1\n\ndata: [DONE]\n\n');
  });

  it('delivers every event of a turn, in order, when the stream starts with them', async () => {
    const response = await serve(async (raw) => {
      const writer = new SseWriter(raw);
      writer.open({});
      for (let index = 0; index < 50; index += 1) writer.write(`data: ${index}\n\n`);
      await afterTurn();
      writer.end('data: [DONE]\n\n');
    });
    response.setEncoding('utf8');
    let body = '';
    for await (const part of response) body += part;
    expect(body).toBe(`${Array.from({ length: 50 }, (_, index) => `data: ${index}\n\n`).join('')}data: [DONE]\n\n`);
  });
});
