import { describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../spec/provider.js';
import { parseAnthropicError, parseAnthropicStreamError } from './errors.js';

function reply(status: number, body: unknown, headers: Record<string, string> = {}): UpstreamResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers, body: new TextEncoder().encode(text) };
}

function anthropicBody(type: string, message: string): unknown {
  return { type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' };
}

describe('parseAnthropicError', () => {
  it('maps 529 overloaded to 503 service_unavailable_error', () => {
    expect(parseAnthropicError(reply(529, anthropicBody('overloaded_error', 'Overloaded')))).toEqual({
      status: 503,
      type: 'service_unavailable_error',
      code: 'overloaded_error',
      message: 'Overloaded',
    });
  });

  it('keeps 429 with the delay from retry-after', () => {
    const error = parseAnthropicError(
      reply(429, anthropicBody('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), { 'Retry-After': '17' }),
    );
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_error', retryAfterMs: 17_000 });
  });

  it('keeps 413 from the edge, whose body may be HTML', () => {
    const error = parseAnthropicError(reply(413, '<html><body>Request Entity Too Large</body></html>', { 'content-type': 'text/html' }));
    expect(error).toEqual({ status: 413, type: 'request_too_large', code: null, message: 'Anthropic answered with HTTP 413.' });
    expect(parseAnthropicError(reply(413, anthropicBody('request_too_large', 'Request exceeds the maximum size')))).toMatchObject({
      status: 413,
      code: 'request_too_large',
    });
  });

  it('uses the codes OpenAI clients branch on where the case is clear', () => {
    expect(parseAnthropicError(reply(401, anthropicBody('authentication_error', 'invalid x-api-key')))).toMatchObject({
      status: 401,
      type: 'authentication_error',
      code: 'invalid_api_key',
      message: 'invalid x-api-key',
    });
    expect(parseAnthropicError(reply(404, anthropicBody('not_found_error', 'model: claude-nope')))).toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
    expect(parseAnthropicError(reply(400, anthropicBody('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum')))).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
    expect(parseAnthropicError(reply(402, anthropicBody('billing_error', 'Your credit balance is too low')))).toMatchObject({
      status: 402,
      type: 'payment_required',
      code: 'billing_error',
    });
  });

  it('prefers error.details.error_code when Anthropic names the cause', () => {
    const body = { type: 'error', error: { type: 'invalid_request_error', message: 'Image too large', details: { error_code: 'image_dimensions_too_large' } } };
    expect(parseAnthropicError(reply(400, body)).code).toBe('image_dimensions_too_large');
  });

  it('maps 500 to 502 and 504 to 504, and keeps plain-text bodies', () => {
    expect(parseAnthropicError(reply(500, anthropicBody('api_error', 'Internal server error')))).toMatchObject({ status: 502, type: 'server_error', code: 'api_error' });
    expect(parseAnthropicError(reply(504, 'upstream request timeout'))).toMatchObject({ status: 504, type: 'timeout_error', message: 'upstream request timeout' });
  });

  it('never repeats the key', () => {
    const error = parseAnthropicError(reply(401, anthropicBody('authentication_error', 'bad key sk-ant-api03-abcdef')), {
      secrets: ['sk-ant-api03-abcdef'],
    });
    expect(error.message).toBe('bad key [redacted]');
  });
});

describe('parseAnthropicStreamError', () => {
  it('derives the status from the error type', () => {
    expect(parseAnthropicStreamError({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }).status).toBe(503);
    expect(parseAnthropicStreamError({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }).status).toBe(429);
    expect(parseAnthropicStreamError({ type: 'error', error: { type: 'invalid_request_error', message: 'bad' } }).status).toBe(400);
    expect(parseAnthropicStreamError({ type: 'error', error: { type: 'brand_new_error', message: '?' } })).toMatchObject({ status: 502, code: 'brand_new_error' });
  });
});
