import { describe, expect, it } from 'vitest';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createSglAdapter } from './index.js';

const adapter = createSglAdapter({});
const request = { model: 'sgl/qwen', messages: [{ role: 'user' as const, content: 'hi' }], regex: '[a-z]+' };

describe('SGLang adapter', () => {
  it('addresses the key server, keeps SGLang sampling fields and sends auth only when the key has a value', async () => {
    const keyed = createTestContext({ adapterType: 'sgl', model: 'qwen', key: { value: 'sglang-secret-1', sgl: { url: 'http://gpu:30000' } } });
    const upstream = await adapter.chat.buildRequest(request, keyed, { stream: false });
    expect(upstream.url).toBe('http://gpu:30000/v1/chat/completions');
    expect(upstream.headers.authorization).toBe('Bearer sglang-secret-1');
    expect(JSON.parse(upstream.body as string).regex).toBe('[a-z]+');

    const keyless = createTestContext({ adapterType: 'sgl', key: { value: '' } });
    const local = await adapter.chat.buildRequest(request, keyless, { stream: false });
    expect(local.url).toBe('http://localhost:30000/v1/chat/completions');
    expect(local.headers).not.toHaveProperty('authorization');
    expect(adapter.credentialStyle).toBe('url');
  });
});
