import { describe, expect, it } from 'vitest';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createTogetherAdapter } from './index.js';

const adapter = createTogetherAdapter({});
const context = createTestContext({ adapterType: 'together', model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' });
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('Together adapter', () => {
  it('targets api.together.xyz/v1', async () => {
    const upstream = await adapter.chat.buildRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, context, { stream: false });
    expect(upstream.url).toBe('https://api.together.xyz/v1/chat/completions');
  });

  it('reports its 403 (prompt plus max_tokens too long) as a 400 context_length_exceeded', () => {
    const error = adapter.parseError(
      { status: 403, headers: {}, body: encode({ error: { message: 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8193', type: 'invalid_request_error' } }) },
      context,
    );
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' });
  });

  it('maps the eos finish reason to stop', async () => {
    const result = await adapter.chat.parseResponse(
      {
        status: 200,
        headers: {},
        body: encode({ id: 'o', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'eos' }] }),
      },
      context,
    );
    expect(result.completion.choices[0]?.finish_reason).toBe('stop');
    expect(result.passthrough).toBe(false);
  });
});
