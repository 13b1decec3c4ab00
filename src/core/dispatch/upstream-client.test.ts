import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamClient } from './upstream-client.js';

/** Bytes per write of the endless reply: it never ends, so only a bound stops a reader. */
const chunk = Buffer.alloc(16 * 1024, 0x61);

let server: Server | undefined;
let client: UpstreamClient | undefined;
afterEach(async () => {
  await client?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = client = undefined;
});

/** A server whose `/sized/N` answers N bytes and whose `/endless` answers without end, as a misdirected upstream might. */
async function startServer(): Promise<{ url: string; closedSockets: () => number }> {
  let closed = 0;
  server = createServer((request, response) => {
    request.socket.once('close', () => (closed += 1));
    const status = request.url?.startsWith('/error') ? 500 : 200;
    if (request.url?.endsWith('/endless')) {
      response.writeHead(status, { 'content-type': 'text/plain' });
      const pump = () => {
        while (response.write(chunk));
      };
      response.on('drain', pump);
      pump();
      return;
    }
    const size = Number(request.url?.split('/').pop());
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(Buffer.alloc(size, 0x62));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, closedSockets: () => closed };
}

describe('UpstreamClient: the bound on a reply read whole', () => {
  it('reads a reply at the bound, and refuses one beyond it with a 502 without reading the rest', async () => {
    const { url, closedSockets } = await startServer();
    client = new UpstreamClient(undefined, 100_000);
    const atBound = await client.send({ method: 'GET', url: `${url}/sized/100000`, headers: {} }, { timeoutMs: 5_000 });
    expect(atBound.body.byteLength).toBe(100_000);

    await expect(client.send({ method: 'GET', url: `${url}/sized/100001`, headers: {} }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      status: 502,
      code: 'upstream_response_too_large',
    });
    // An endless reply: without the bound the read would never finish.
    await expect(client.send({ method: 'GET', url: `${url}/endless`, headers: {} }, { timeoutMs: 60_000 })).rejects.toMatchObject({
      status: 502,
      code: 'upstream_response_too_large',
    });
    // The refused replies' connections were closed, not put back in the pool with their bytes unread.
    await expect.poll(closedSockets).toBeGreaterThanOrEqual(1);
    const after = await client.send({ method: 'GET', url: `${url}/sized/10`, headers: {} }, { timeoutMs: 5_000 });
    expect(after.status).toBe(200);
  });

  it("holds a streamed reply's error body to the same bound", async () => {
    const { url } = await startServer();
    client = new UpstreamClient(undefined, 100_000);
    const stream = await client.open({ method: 'GET', url: `${url}/error/endless`, headers: {} }, { timeoutMs: 60_000 });
    expect(stream.status).toBe(500);
    await expect(stream.readAll()).rejects.toMatchObject({ status: 502, code: 'upstream_response_too_large' });
  });
});
