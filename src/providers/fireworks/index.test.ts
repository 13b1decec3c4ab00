import { describe, expect, it } from 'vitest';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createFireworksAdapter } from './index.js';

const adapter = createFireworksAdapter({});
const context = createTestContext({ adapterType: 'fireworks', model: adapter.knownModels[0] ?? 'model', key: { value: 'fireworks-key-00000001' } });

describe('Fireworks AI adapter', () => {
  it('sends bearer-authenticated chat requests to its default base URL', async () => {
    const upstream = await adapter.chat.buildRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, context, { stream: true });
    expect(upstream.url).toBe('https://api.fireworks.ai/inference/v1/chat/completions');
    expect(upstream.headers.authorization).toBe('Bearer fireworks-key-00000001');
    expect(JSON.parse(upstream.body as string)).toMatchObject({ model: adapter.knownModels[0], stream: true, stream_options: { include_usage: true } });
    expect(adapter.type).toBe('fireworks');
    expect(adapter.credentialStyle).toBe('value');
  });

  it('serves embeddings at the standard path', async () => {
    const embeddings = await adapter.embeddings?.buildRequests({ model: 'e', input: 'x' }, context);
    expect(embeddings?.[0]?.url).toBe('https://api.fireworks.ai/inference/v1/embeddings');
  });
});
