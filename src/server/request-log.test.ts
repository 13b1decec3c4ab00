import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatBody, immediateRetries, post, whenLogged } from '../../test/inference/inference-helpers.js';
import { startOpenAIMock, type OpenAIMock } from '../../test/mocks/openai-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../../test/support/live-gateway.js';

const upstreamSecret = 'sk-live-request-log-secret-0001';
const bodySecret = 'prompt-text-that-must-stay-out-of-logs';

let mock: OpenAIMock;
let tollgate: LiveGateway;
let keyId: string;

beforeAll(async () => {
  mock = await startOpenAIMock({ apiKeys: [upstreamSecret] });
  tollgate = await startLiveGateway();
  await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 0, ...immediateRetries } });
  keyId = await tollgate.addKey('openai', { name: 'logged', value: upstreamSecret });
});
afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
});

/** The raw text of the one request line of a request id, once the gateway has written it. */
async function rawLineOf(requestId: string): Promise<string> {
  const isLine = (line: string) => line.includes('"msg":"request"') && line.includes(`"requestId":"${requestId}"`);
  await whenLogged(tollgate.logs, (chunk) => chunk.split('\n').some(isLine));
  const lines = tollgate.logs.join('').split('\n').filter(isLine);
  expect(lines, `one request line for ${requestId}`).toHaveLength(1);
  return lines[0]!;
}

describe('the request log line', () => {
  it('keeps its fields, their order, the request id binding and the time format, written without redaction', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', bodySecret), { headers: { 'x-request-id': 'line-fields-1' } });
    expect(reply.status, reply.text).toBe(200);
    const raw = await rawLineOf('line-fields-1');
    const line = JSON.parse(raw) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual([
      'level',
      'time',
      'service',
      'reqId',
      'requestId',
      'method',
      'route',
      'status',
      'latencyMs',
      'provider',
      'model',
      'keyId',
      'stream',
      'tokens',
      'msg',
    ]);
    expect(line).toMatchObject({
      level: 30,
      service: 'tollgate',
      reqId: 'line-fields-1',
      requestId: 'line-fields-1',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 200,
      provider: 'openai',
      model: 'gpt-4o',
      keyId,
      stream: false,
      tokens: { input: expect.any(Number), output: expect.any(Number), cached: expect.any(Number) },
      msg: 'request',
    });
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(typeof line.latencyMs).toBe('number');
  });

  it('carries no secret of an inference request: neither the client key, the upstream key nor the prompt', async () => {
    const reply = await post(tollgate, '/v1/chat/completions', chatBody('openai/gpt-4o', `${bodySecret} ${upstreamSecret}`), {
      headers: { 'x-request-id': 'line-secret-2', 'x-api-key': testAdminKey },
    });
    expect(reply.status, reply.text).toBe(200);
    const raw = await rawLineOf('line-secret-2');
    for (const secret of [upstreamSecret, testAdminKey, bodySecret]) expect(raw).not.toContain(secret);
    expect(raw).not.toContain(upstreamSecret.slice(-12));
    expect(raw).not.toContain(testAdminKey.slice(-12));
  });

  it('names the error code of a failed request and keeps the line of a non-inference route short', async () => {
    const failed = await post(tollgate, '/v1/chat/completions', chatBody('nowhere/model'), { headers: { 'x-request-id': 'line-error-3' } });
    expect(failed.status).toBe(400);
    const line = JSON.parse(await rawLineOf('line-error-3')) as Record<string, unknown>;
    expect(line).toMatchObject({ reqId: 'line-error-3', status: 400, route: '/v1/chat/completions' });

    const response = await fetch(`${tollgate.url}/ready`, { headers: { 'x-request-id': 'line-ready-4' } });
    expect(response.status).toBe(200);
    const ready = JSON.parse(await rawLineOf('line-ready-4')) as Record<string, unknown>;
    expect(Object.keys(ready)).toEqual(['level', 'time', 'service', 'reqId', 'requestId', 'method', 'route', 'status', 'latencyMs', 'msg']);
  });
});
