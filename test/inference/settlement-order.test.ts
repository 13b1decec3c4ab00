/**
 * A non-streamed answer (chat, messages, embeddings) is written before its request is settled: the settlement (cost, the limit counters, the
 * ledger row, the metrics) is CPU the client need not wait for. The meter here records when each request settles,
 * and the HTTP server records when each answer is ended, in one list.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageMeter } from '../../src/core/inference/metering.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { chatBody, immediateRetries, post } from './inference-helpers.js';

/** A gateway metered by `meter`, with one OpenAI key (`apiKey`) on a mock that accepts it. */
async function gatewayWithMeter(meter: UsageMeter, apiKey: string): Promise<{ mock: OpenAIMock; tollgate: LiveGateway }> {
  const mock = await startOpenAIMock({ apiKeys: [apiKey] });
  const tollgate = await startLiveGateway({ meter });
  await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 0, ...immediateRetries } });
  await tollgate.addKey('openai', { name: 'primary', value: apiKey });
  return { mock, tollgate };
}

describe('settlement of a non-streamed answer', () => {
  const order: string[] = [];
  let mock: OpenAIMock;
  let tollgate: LiveGateway;

  const recordingMeter: UsageMeter = {
    async begin(start) {
      order.push(`began ${start.requestType}`);
      return { settle: (outcome) => void order.push(`settled ${outcome.status}`) };
    },
    permit() {},
    async drain() {},
  };

  beforeAll(async () => {
    ({ mock, tollgate } = await gatewayWithMeter(recordingMeter, 'sk-order'));
    // Runs before Fastify's own listener, so every answer's `end` is wrapped before the route can call it.
    tollgate.gateway.app.server.prependListener('request', (_request, response: ServerResponse) => {
      const end = response.end.bind(response) as (...parts: unknown[]) => ServerResponse;
      response.end = ((...parts: unknown[]) => {
        order.push('answer ended');
        return end(...parts);
      }) as ServerResponse['end'];
    });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('ends the chat answer first, then settles, before the next request begins', async () => {
    order.length = 0;
    const first = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o-mini'));
    expect(first.status, first.text).toBe(200);
    const second = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o-mini'));
    expect(second.status, second.text).toBe(200);
    expect(order).toEqual(['began chat', 'answer ended', 'settled 200', 'began chat', 'answer ended', 'settled 200']);
  });

  it('does the same for an Anthropic messages answer', async () => {
    order.length = 0;
    const reply = await post(tollgate, '/v1/messages', { model: 'openai/gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.status, reply.text).toBe(200);
    expect(order).toEqual(['began messages', 'answer ended', 'settled 200']);
  });

  it('does the same for an embeddings answer', async () => {
    order.length = 0;
    const reply = await post(tollgate, '/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'hi' });
    expect(reply.status, reply.text).toBe(200);
    expect(order).toEqual(['began embeddings', 'answer ended', 'settled 200']);
  });

  it('settles a failed request before its error answer, as before', async () => {
    order.length = 0;
    mock.enqueue({ status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error', param: null, code: null } } });
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o-mini'));
    expect(reply.status, reply.text).toBe(400);
    expect(order).toEqual(['began chat', 'settled 400', 'answer ended']);
  });
});

describe('a settlement that fails after the answer', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  let settlements = 0;

  const throwingMeter: UsageMeter = {
    async begin() {
      return {
        settle: () => {
          settlements += 1;
          throw new Error('the meter broke');
        },
      };
    },
    permit() {},
    async drain() {},
  };

  beforeAll(async () => {
    ({ mock, tollgate } = await gatewayWithMeter(throwingMeter, 'sk-broken-meter'));
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  it('is logged and counted; the answer stands and the gateway serves on', async () => {
    // Thrown on a tick of its own, the error would reach the process (an uncaught exception fails this run).
    for (let request = 0; request < 2; request += 1) {
      const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o-mini'));
      expect(reply.status, reply.text).toBe(200);
    }
    expect(settlements).toBe(2);
    const failures = tollgate.logs.filter((line) => line.includes('"msg":"metering failed"'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('the meter broke');
    const metrics = await tollgate.request({ method: 'GET', url: '/metrics' });
    expect(metrics.text).toContain('tollgate_metering_failures_total{stage="settle"} 2');
  });
});
