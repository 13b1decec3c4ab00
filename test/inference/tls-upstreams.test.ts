/**
 * Upstreams over HTTPS, as every real provider is reached. One whose certificate the gateway does not trust (a
 * private authority, a wrong host) answers a 502 `upstream_certificate_rejected` that says how to trust it, at once:
 * not retried against the same origin, the next key tried, then the fallbacks. One signed by a private authority is
 * served once the operator names that authority in NODE_EXTRA_CA_CERTS, Node's own setting, read at start, also
 * through an egress proxy named in HTTPS_PROXY (the usual enterprise set-up), whose password no log shows.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../mocks/connect-proxy.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import type { MockTls } from '../mocks/mock-server.js';
import { startEntryPoint, type EntryPointProcess } from '../support/entry-point-process.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { sqliteStore, type TestStore } from '../support/stores.js';
import { testEncryptionKey } from '../support/test-gateway.js';
import { chatBody, immediateRetries, post } from './inference-helpers.js';

const authorityFile = fileURLToPath(new URL('../support/tls/ca.pem', import.meta.url));
const tls: MockTls = {
  cert: readFileSync(new URL('../support/tls/server-cert.pem', import.meta.url), 'utf8'),
  key: readFileSync(new URL('../support/tls/server-key.pem', import.meta.url), 'utf8'),
};

/** The value of one series of a Prometheus text exposition, 0 when absent. */
function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('an upstream whose certificate the gateway does not trust', () => {
  let httpsMock: OpenAIMock;
  let groqMock: OpenAIMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    httpsMock = await startOpenAIMock({ apiKeys: ['sk-first', 'sk-second'], tls });
    groqMock = await startOpenAIMock({ apiKeys: ['gsk-fallback'], pathPrefix: '/openai' });
    tollgate = await startLiveGateway();
    // Retries allowed, so that a retried certificate failure would show in the attempts.
    await tollgate.configureProvider('openai', { network_config: { base_url: httpsMock.baseUrl, max_retries: 2, ...immediateRetries } });
    await tollgate.configureProvider('groq', { network_config: { base_url: groqMock.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'first', value: 'sk-first' });
    await tollgate.addKey('openai', { name: 'second', value: 'sk-second' });
    await tollgate.addKey('groq', { name: 'fallback', value: 'gsk-fallback' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await Promise.all([httpsMock.close(), groqMock.close()]);
  });

  async function attempts(outcome: string): Promise<number> {
    const text = await (await fetch(`${tollgate.url}/metrics`)).text();
    return seriesValue(text, `tollgate_upstream_attempts_total{provider="openai",outcome="${outcome}"}`);
  }

  it('answers a 502 naming the cause and the remedy, after one try of each key and no retry', async () => {
    const rotatedBefore = await attempts('rotate');
    const retriedBefore = await attempts('retry');
    for (const stream of [false, true]) {
      const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'over TLS', stream ? { stream: true } : {}));
      expect(reply.status).toBe(502);
      expect(reply.body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_certificate_rejected' });
      expect(reply.body.error.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(reply.body.error.message).toContain('NODE_EXTRA_CA_CERTS');
      expect(reply.text).not.toMatch(/sk-first|sk-second/);
    }
    expect(httpsMock.requests).toHaveLength(0);
    expect((await attempts('rotate')) - rotatedBefore).toBe(4);
    expect((await attempts('retry')) - retriedBefore).toBe(0);
  });

  it('is served by a fallback', async () => {
    const groqBefore = groqMock.requests.length;
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'served elsewhere', { fallbacks: ['groq/llama-3.3-70b-versatile'] }));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-tollgate-provider')).toBe('groq');
    expect(reply.body.choices[0].message.content).toBe('served elsewhere');
    expect(groqMock.requests.length - groqBefore).toBe(1);
  });
});

describe('an upstream signed by a private authority named in NODE_EXTRA_CA_CERTS, behind the egress proxy of HTTPS_PROXY', () => {
  let httpsMock: OpenAIMock;
  let proxy: ConnectProxy;
  let store: TestStore;
  let gateway: EntryPointProcess;
  let client: OpenAI;

  beforeAll(async () => {
    httpsMock = await startOpenAIMock({ apiKeys: ['sk-private'], tls });
    proxy = await startConnectProxy('gateway:egress-pa55');
    store = sqliteStore();
    gateway = await startEntryPoint({
      NODE_EXTRA_CA_CERTS: authorityFile,
      HTTPS_PROXY: proxy.url.replace('http://', 'http://gateway:egress-pa55@'),
      LOG_LEVEL: 'info',
      TOLLGATE_DATA_DIR: store.dataDir,
      TOLLGATE_ADMIN_KEY: testAdminKey,
      TOLLGATE_ENCRYPTION_KEY: testEncryptionKey.toString('hex'),
    });
    const admin = { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' };
    const configured = await fetch(`${gateway.base}/api/providers/openai`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ network_config: { base_url: httpsMock.baseUrl } }),
    });
    expect(configured.status).toBe(200);
    const added = await fetch(`${gateway.base}/api/providers/openai/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'private', value: 'sk-private' }) });
    expect(added.status).toBe(201);
    client = new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.base}/v1`, maxRetries: 0 });
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await proxy?.close();
    await httpsMock?.close();
    await store?.dispose();
  });

  it('serves completions and streams through the tunnel, and never logs the proxy password', async () => {
    const completion = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'privately signed' }] });
    expect(completion.choices[0]!.message.content).toBe('privately signed');
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'streamed over TLS' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed over TLS');
    expect(httpsMock.requests).toHaveLength(2);
    expect(httpsMock.requests.every((request) => request.headers.authorization === 'Bearer sk-private')).toBe(true);
    expect(proxy.connects.length).toBeGreaterThanOrEqual(1);
    expect(proxy.connects.every((connect) => connect.target === new URL(httpsMock.baseUrl).host)).toBe(true);
    // The start-up line names the proxy by its origin; log lines reach standard output in batches.
    const startLines = () =>
      gateway
        .standardOutput()
        .split('\n')
        .filter((line) => line.includes('egress proxy'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await expect.poll(startLines).toEqual([expect.objectContaining({ httpsProxy: proxy.url, httpProxy: null, noProxy: '169.254.169.254,metadata.google.internal' })]);
    expect(gateway.output()).not.toContain('egress-pa55');
  });
});
