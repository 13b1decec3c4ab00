/**
 * An upstream that echoes the credential it was sent in its error text (some do: "invalid api key: sk-...") must
 * not pass it on to Tollgate's client, whichever provider answers: the dispatcher redacts every secret of the key
 * from every mapped upstream error, also for adapters that do not redact themselves (Cohere's here).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';

const upstreamKey = 'cohere-echoed-key-0123456789';

let upstream: Server;
let baseUrl: string;
let tollgate: LiveGateway;
let seen = 0;

beforeAll(async () => {
  // Answers every request with Cohere's error shape, quoting the bearer token it received.
  upstream = createServer((request, response) => {
    seen += 1;
    request.resume();
    request.on('end', () => {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: `invalid api token: ${String(request.headers.authorization ?? '').replace(/^Bearer /, '')}` }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('cohere', { network_config: { base_url: baseUrl } });
  await tollgate.addKey('cohere', { name: 'echoed', value: upstreamKey });
});

afterAll(async () => {
  await tollgate?.dispose();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()));
});

describe('credentials echoed by an upstream error', () => {
  it('reach the client redacted, with the rest of the message kept', async () => {
    const error = await new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'cohere/command-a-03-2025', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(seen).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const body = JSON.stringify((error as InstanceType<typeof OpenAI.AuthenticationError>).error);
    expect(body).not.toContain(upstreamKey);
    expect(body).toContain('invalid api token: [redacted]');
  });
});
