/**
 * Upstream requests through an egress proxy (HTTP_PROXY / HTTPS_PROXY / NO_PROXY), as networks that allow no direct
 * way out require: a CONNECT tunnel to the upstream, the proxy's credentials sent to the proxy only and never
 * shown, a refused tunnel answered as a 502 that says so (not as a cancelled request), and the hosts in NO_PROXY
 * reached directly.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamProxy } from '../../src/spec/upstream-proxy.js';
import { startConnectProxy, type ConnectProxy } from '../mocks/connect-proxy.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatBody, immediateRetries, post } from './inference-helpers.js';

let mock: OpenAIMock;
let upstreamHost: string;
const proxies: ConnectProxy[] = [];
const gateways: LiveGateway[] = [];

beforeAll(async () => {
  mock = await startOpenAIMock({ apiKeys: ['sk-behind-proxy'] });
  upstreamHost = new URL(mock.baseUrl).host;
});
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.dispose();
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => {
  await mock.close();
});

async function proxyNeeding(credentials?: string): Promise<ConnectProxy> {
  const proxy = await startConnectProxy(credentials);
  proxies.push(proxy);
  return proxy;
}

/** A gateway whose OpenAI provider is the mock, reached through `proxy`. */
async function gatewayThrough(proxy: UpstreamProxy): Promise<LiveGateway> {
  const tollgate = await startLiveGateway({ upstreamProxy: proxy });
  gateways.push(tollgate);
  await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 1, ...immediateRetries } });
  await tollgate.addKey('openai', { name: 'behind-proxy', value: 'sk-behind-proxy' });
  return tollgate;
}

/** `http://user:password@host:port` for a proxy at `url`. */
function withCredentials(url: string, credentials: string): string {
  return url.replace('http://', `http://${credentials}@`);
}

describe('an egress proxy', () => {
  it('carries completions and streams through a CONNECT tunnel to the upstream', async () => {
    const proxy = await proxyNeeding();
    const tollgate = await gatewayThrough({ httpProxy: proxy.url, httpsProxy: '', noProxy: '' });
    const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const before = mock.requests.length;

    const completion = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'through the proxy' }] });
    expect(completion.choices[0]!.message.content).toBe('through the proxy');
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'streamed through it' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed through it');

    expect(mock.requests.length - before).toBe(2);
    expect(proxy.connects.length).toBeGreaterThanOrEqual(1);
    expect(proxy.connects.every((connect) => connect.target === upstreamHost)).toBe(true);
    expect(proxy.plainRequests).toBe(0);
  });

  it("sends the proxy's credentials to the proxy alone, and never shows them", async () => {
    const proxy = await proxyNeeding('gateway:pr0xy-s3cret');
    const tollgate = await gatewayThrough({ httpProxy: withCredentials(proxy.url, 'gateway:pr0xy-s3cret'), httpsProxy: '', noProxy: '' });
    const before = mock.requests.length;
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'authenticated'));
    expect(reply.status).toBe(200);
    expect(proxy.connects[0]!.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('gateway:pr0xy-s3cret').toString('base64')}`);
    const upstreamRequests = mock.requests.slice(before);
    expect(upstreamRequests).toHaveLength(1);
    expect(upstreamRequests[0]!.headers).not.toHaveProperty('proxy-authorization');
    expect(tollgate.logs.join('')).not.toContain('pr0xy-s3cret');
  });

  it('answers a tunnel the proxy refuses with a 502 naming the refusal, not as a cancelled request', async () => {
    const proxy = await proxyNeeding('gateway:right-password');
    const tollgate = await gatewayThrough({ httpProxy: withCredentials(proxy.url, 'gateway:wr0ng-password'), httpsProxy: '', noProxy: '' });
    const before = mock.requests.length;
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'refused'));
    expect(reply.status).toBe(502);
    expect(reply.body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_proxy_refused' });
    expect(reply.body.error.message).toContain('407');
    // Retried once (max_retries 1), as a network failure: a proxy may refuse for a moment.
    expect(proxy.connects).toHaveLength(2);
    expect(mock.requests.length - before).toBe(0);
    expect(reply.text).not.toContain('wr0ng-password');
    expect(tollgate.logs.join('')).not.toContain('wr0ng-password');
  });

  it('reaches the hosts in NO_PROXY directly', async () => {
    const proxy = await proxyNeeding();
    const tollgate = await gatewayThrough({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: 'internal.example, 127.0.0.1' });
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', 'direct'));
    expect(reply.status).toBe(200);
    expect(reply.body.choices[0].message.content).toBe('direct');
    expect(proxy.connects).toHaveLength(0);
  });
});
