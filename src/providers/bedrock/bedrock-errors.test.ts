import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../spec/provider.js';
import { parseBedrockError } from './bedrock-errors.js';

function reply(status: number, errorType: string | undefined, body: unknown, headers: Record<string, string> = {}): UpstreamResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    status,
    headers: { 'content-type': 'application/json', ...(errorType === undefined ? {} : { 'x-amzn-ErrorType': errorType }), ...headers },
    body: new TextEncoder().encode(text),
  };
}

describe('parseBedrockError', () => {
  it('maps the documented ValidationException reply', () => {
    const body = readFileSync(new URL('./fixtures/error-validation.json', import.meta.url), 'utf8');
    expect(parseBedrockError(reply(400, 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/', body))).toEqual({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_request',
      message: 'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
      param: null,
    });
  });

  it.each([
    ['AccessDeniedException', 403, 403, 'permission_error'],
    ['ResourceNotFoundException', 404, 404, 'not_found_error'],
    ['ModelTimeoutException', 408, 504, 'timeout_error'],
    ['ModelErrorException', 424, 502, 'server_error'],
    ['ThrottlingException', 429, 429, 'rate_limit_error'],
    ['ModelNotReadyException', 429, 429, 'rate_limit_error'],
    ['InternalServerException', 500, 502, 'server_error'],
    ['ServiceUnavailableException', 503, 503, 'service_unavailable_error'],
    ['InvalidSignatureException', 403, 401, 'authentication_error'],
    ['UnrecognizedClientException', 403, 401, 'authentication_error'],
  ])('maps %s (HTTP %i) to %i %s', (name, upstreamStatus, status, type) => {
    const error = parseBedrockError(reply(upstreamStatus, name, { message: 'Something happened.' }));
    expect([error.status, error.type, error.message]).toEqual([status, type, 'Something happened.']);
  });

  it('recognises a prompt that does not fit the context window', () => {
    const error = parseBedrockError(reply(400, 'ValidationException', { message: 'Input is too long for requested model.' }));
    expect(error.code).toBe('context_length_exceeded');
  });

  it('falls back to the status when the error type is missing, and reads retry-after', () => {
    const error = parseBedrockError(reply(429, undefined, { Message: 'Rate exceeded' }, { 'retry-after': '3' }));
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'Rate exceeded', retryAfterMs: 3000 });
    expect(parseBedrockError(reply(502, undefined, '<html>Bad Gateway</html>'))).toMatchObject({ status: 502, type: 'server_error' });
  });
});
