import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { transportFailureOf, UpstreamClient } from './upstream-client.js';

const tlsDirectory = new URL('../../../test/support/tls/', import.meta.url);
const authority = readFileSync(new URL('ca.pem', tlsDirectory), 'utf8');
const certificate = { cert: readFileSync(new URL('server-cert.pem', tlsDirectory), 'utf8'), key: readFileSync(new URL('server-key.pem', tlsDirectory), 'utf8') };

const servers: Array<HttpServer | HttpsServer> = [];
const clients: UpstreamClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** An HTTPS server with the test authority's certificate for localhost and 127.0.0.1, listening on `host`. */
async function startHttps(host = '127.0.0.1'): Promise<{ url: string; handshakesRefused: () => number }> {
  let refused = 0;
  const server = createHttpsServer(certificate, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
  server.on('tlsClientError', () => (refused += 1));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `https://${host}:${(server.address() as AddressInfo).port}`, handshakesRefused: () => refused };
}

function clientOf(agent?: Agent): UpstreamClient {
  const client = new UpstreamClient(agent);
  clients.push(client);
  return client;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the request succeeded');
}

describe('UpstreamClient over TLS', () => {
  it('talks to an upstream whose certificate it trusts', async () => {
    const { url } = await startHttps();
    const client = clientOf(new Agent({ connect: { ca: authority } }));
    const reply = await client.send({ method: 'GET', url: `${url}/v1/models`, headers: {} }, { timeoutMs: 5_000 });
    expect(reply.status).toBe(200);
    expect(new TextDecoder().decode(reply.body)).toBe('{"ok":true}');
  });

  it('refuses a certificate from an authority it does not trust with a 502 naming the cause, as a certificate failure', async () => {
    const { url, handshakesRefused } = await startHttps();
    const error = await failureOf(clientOf().send({ method: 'GET', url: `${url}/v1/models`, headers: {} }, { timeoutMs: 5_000 }));
    expect(error).toMatchObject({ status: 502, code: 'upstream_certificate_rejected' });
    expect((error as Error).message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect((error as Error).message).toContain('NODE_EXTRA_CA_CERTS');
    expect(transportFailureOf(error)).toBe('certificate');
    await expect.poll(handshakesRefused).toBe(1);
  });

  it('refuses a trusted certificate that does not name the host it was reached at', async () => {
    // 127.0.0.2 is loopback too, but the certificate names only localhost and 127.0.0.1.
    const { url } = await startHttps('127.0.0.2');
    const error = await failureOf(clientOf(new Agent({ connect: { ca: authority } })).send({ method: 'GET', url, headers: {} }, { timeoutMs: 5_000 }));
    expect(error).toMatchObject({ status: 502, code: 'upstream_certificate_rejected' });
    expect((error as Error).message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(transportFailureOf(error)).toBe('certificate');
  });

  it('tells a server that does not speak TLS at all from a refused certificate: a network failure, retried', async () => {
    const server = createHttpServer((_request, response) => response.end('plain'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await failureOf(clientOf().send({ method: 'GET', url, headers: {} }, { timeoutMs: 5_000 }));
    expect(error).toMatchObject({ status: 502, code: 'upstream_unreachable' });
    expect(transportFailureOf(error)).toBe('network');
  });
});
