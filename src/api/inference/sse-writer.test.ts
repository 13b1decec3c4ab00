import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingResponse } from '../../../test/support/recording-response.js';
import { SseWriter } from './sse-writer.js';

function writerFor(response: RecordingResponse): SseWriter {
  return new SseWriter(response as unknown as ServerResponse);
}

/** Resolves at the end of the current turn of the event loop (after the immediates queued so far). */
function afterTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('SseWriter', () => {
  it('holds what is written, whatever the turns in between, and sends it with the headers at the flush', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({ 'x-request-id': 'r1' });
    writer.write('data: 1\n\n');
    await afterTurn();
    writer.write('data: 2\n\n');
    await afterTurn();
    expect(response.sent()).toEqual([]);
    writer.flush();
    expect(response.sent()).toEqual(['write:data: 1\n\ndata: 2\n\n']);
    writer.flush();
    expect(response.sent()).toHaveLength(1);
  });

  it('sends queued text at once when it outgrows the batch, without waiting for the flush', () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    const large = `data: ${'x'.repeat(70 * 1024)}\n\n`;
    writer.write('data: 1\n\n');
    writer.write(large);
    expect(response.sent()).toEqual([`write:data: 1\n\n${large}`]);
    writer.write('data: 2\n\n');
    writer.flush();
    expect(response.sent()).toEqual([`write:data: 1\n\n${large}`, 'write:data: 2\n\n']);
  });

  it('flushes the headers alone when nothing is queued at the first flush, and only then', () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    writer.flush();
    expect(response.sent()).toEqual(['flushHeaders']);
    writer.flush();
    writer.write('data: late\n\n');
    writer.flush();
    writer.flush();
    expect(response.sent()).toEqual(['flushHeaders', 'write:data: late\n\n']);
  });

  it('ends with what is still queued and the final text in one call', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    writer.write('data: 1\n\n');
    writer.end('data: [DONE]\n\n');
    expect(response.sent()).toEqual(['end:data: 1\n\ndata: [DONE]\n\n']);
    writer.write('data: after the end\n\n');
    writer.flush();
    writer.end('again');
    await afterTurn();
    expect(response.sent()).toHaveLength(1);
  });

  it('reports a full buffer, holds further text until drain, and then sends it', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    response.accepts = false;
    writer.write('data: 1\n\n');
    expect(writer.congested).toBe(false);
    writer.flush();
    expect(writer.congested).toBe(true);
    writer.write('data: 2\n\n');
    writer.flush();
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
    expect(writer.congested).toBe(false);
  });

  it('stops waiting and drops queued text when the client goes away', async () => {
    const response = new RecordingResponse();
    const writer = writerFor(response);
    writer.open({});
    response.accepts = false;
    writer.write('data: 1\n\n');
    writer.flush();
    writer.write('data: 2\n\n');
    const waiting = writer.drained();
    response.destroyed = true;
    response.emit('close');
    await waiting;
    expect(writer.closed).toBe(true);
    expect(writer.congested).toBe(false);
    writer.write('data: 3\n\n');
    writer.flush();
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
      writer.flush();
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

  it('delivers every event written, in order, when the stream starts with them', async () => {
    const response = await serve(async (raw) => {
      const writer = new SseWriter(raw);
      writer.open({});
      for (let index = 0; index < 50; index += 1) writer.write(`data: ${index}\n\n`);
      writer.flush();
      await afterTurn();
      writer.end('data: [DONE]\n\n');
    });
    response.setEncoding('utf8');
    let body = '';
    for await (const part of response) body += part;
    expect(body).toBe(`${Array.from({ length: 50 }, (_, index) => `data: ${index}\n\n`).join('')}data: [DONE]\n\n`);
  });
});
