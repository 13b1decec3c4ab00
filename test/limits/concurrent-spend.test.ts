import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';

describe('a USD limit under concurrency (memory counters)', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-upstream-0001'] });
    tollgate = await startLiveGateway({ ledgerFlushMs: 0 });
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl } });
    await tollgate.addKey('openai', { name: 'main', value: 'sk-upstream-0001' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('admits exactly the requests whose worst case fits, and settles no more than the limit', async () => {
    const created = await tollgate.request({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', consumptionLimit: { requests: 10 }, limitPeriod: 'LIFETIME' } });
    expect(created.status).toBe(200);
    const client = new OpenAI({ apiKey: created.body.data.apiKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 })),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled').length;
    expect(fulfilled).toBe(10);
    const refused = results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason as { status?: number; code?: string });
    expect(refused.every((error) => error.status === 402)).toBe(true);
    const view = await tollgate.request({ method: 'GET', url: `/api/v1/api_keys/${created.body.data.id}` });
    expect(view.body.data.usage.window.spent.requests).toBe(10);
    expect(view.body.data.usage.window.reserved.requests).toBe(0);
  });

  it('never settles more USD than the limit', async () => {
    const limit = 0.0005;
    const created = await tollgate.request({ method: 'POST', url: '/api/v1/api_keys', body: { apiKeyType: 'INFERENCE', consumptionLimit: { usd: limit } } });
    const client = new OpenAI({ apiKey: created.body.data.apiKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'a short question' }], max_tokens: 200 })),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled').length;
    expect(fulfilled).toBeGreaterThan(0);
    expect(fulfilled).toBeLessThan(100);
    const view = await tollgate.request({ method: 'GET', url: `/api/v1/api_keys/${created.body.data.id}` });
    expect(view.body.data.usage.window.spent.usd).toBeLessThanOrEqual(limit);
    expect(view.body.data.usage.window.spent.usd).toBeGreaterThan(0);
    const refusal = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect((refusal.reason as { code?: string }).code).toBe('API_KEY_USD_SPEND_LIMIT_EXCEEDED');
  });
});
