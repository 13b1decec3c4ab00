import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../spec/provider.js';
import { mapUpstreamStatus, parseCompatibleError } from './errors.js';
import { createTestContext } from './test-support.js';

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

function reply(status: number, body: string | Uint8Array, headers: Record<string, string> = {}): UpstreamResponse {
  return { status, headers, body: typeof body === 'string' ? new TextEncoder().encode(body) : body };
}

const context = createTestContext({ key: { value: 'sk-live-0123456789abcdef' } });

describe('mapUpstreamStatus', () => {
  it.each([
    [400, 400, 'invalid_request_error'],
    [413, 400, 'invalid_request_error'],
    [422, 400, 'invalid_request_error'],
    [401, 401, 'authentication_error'],
    [403, 403, 'permission_error'],
    [404, 404, 'not_found_error'],
    [408, 504, 'timeout_error'],
    [504, 504, 'timeout_error'],
    [424, 502, 'server_error'],
    [429, 429, 'rate_limit_error'],
    [500, 502, 'server_error'],
    [502, 502, 'server_error'],
    [503, 503, 'service_unavailable_error'],
    [529, 503, 'service_unavailable_error'],
  ])('maps %i to %i %s', (upstream, status, type) => {
    expect(mapUpstreamStatus(upstream)).toEqual({ status, type });
  });
});

describe('parseCompatibleError', () => {
  it("reads OpenAI's nested error with retry-after-ms", () => {
    const error = parseCompatibleError(reply(429, fixture('openai-rate-limit-error.json'), { 'Retry-After-Ms': '84' }), context);
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null, retryAfterMs: 84 });
    expect(error.message).toContain('Rate limit reached for gpt-4o-mini');
  });

  it('reads retry-after in seconds', () => {
    const error = parseCompatibleError(reply(503, '{"error":{"message":"busy","type":"server_error"}}', { 'retry-after': '2' }), context);
    expect(error).toMatchObject({ status: 503, type: 'service_unavailable_error', retryAfterMs: 2000 });
  });

  it("reads vLLM's flat error body; a numeric code is not kept as the code", () => {
    const error = parseCompatibleError(reply(404, fixture('vllm-flat-error.json')), context);
    expect(error).toEqual({
      status: 404,
      type: 'not_found_error',
      code: null,
      param: null,
      message: 'The model `meta-llama/Llama-3.1-70B-Instruct` does not exist.',
    });
  });

  it("renders Mistral's 422 validation detail as a readable 400 message", () => {
    const error = parseCompatibleError(reply(422, fixture('mistral-error.json')), context);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: null });
    expect(error.message).toBe('body.stream_options: Extra inputs are not permitted');
  });

  it('keeps the code of an exhausted quota', () => {
    const body = '{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":null}}';
    expect(parseCompatibleError(reply(429, body), context).code).toBe('insufficient_quota');
  });

  it('uses a plain-text body as the message and ignores HTML pages', () => {
    expect(parseCompatibleError(reply(500, 'upstream connect error'), context)).toMatchObject({ status: 502, message: 'upstream connect error' });
    const html = parseCompatibleError(reply(502, '<html><body>Bad Gateway</body></html>', { 'content-type': 'text/html' }), context);
    expect(html.message).toBe('The upstream answered with HTTP 502.');
    expect(parseCompatibleError(reply(500, ''), context).message).toBe('The upstream answered with HTTP 500.');
  });

  it('reads {"error": "text"} and {"detail": "text"} bodies', () => {
    expect(parseCompatibleError(reply(400, '{"error":"model \\"x\\" not found"}'), context).message).toBe('model "x" not found');
    expect(parseCompatibleError(reply(404, '{"detail":"Not Found"}'), context).message).toBe('Not Found');
  });

  it('never repeats the key in a message', () => {
    const body = '{"error":{"message":"Invalid key sk-live-0123456789abcdef supplied","type":"invalid_request_error"}}';
    const error = parseCompatibleError(reply(401, body), context);
    expect(error.message).toBe('Invalid key [redacted] supplied');
    expect(error.type).toBe('authentication_error');
  });

  it('applies status overrides (Together 403 = context length)', () => {
    const overrides = { 403: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' } };
    const error = parseCompatibleError(reply(403, '{"error":{"message":"Input validation error: inputs tokens + max_new_tokens must be <= 8193"}}'), context, overrides);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' });
  });
});
