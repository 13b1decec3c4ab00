import { describe, expect, it } from 'vitest';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createCerebrasAdapter } from './index.js';

const adapter = createCerebrasAdapter({});
const context = createTestContext({ adapterType: 'cerebras', model: adapter.knownModels[0] ?? 'model', key: { value: 'cerebras-key-00000001' } });

describe('Cerebras adapter', () => {
  it('sends bearer-authenticated chat requests to its default base URL', async () => {
    const upstream = await adapter.chat.buildRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, context, { stream: true });
    expect(upstream.url).toBe('https://api.cerebras.ai/v1/chat/completions');
    expect(upstream.headers.authorization).toBe('Bearer cerebras-key-00000001');
    expect(JSON.parse(upstream.body as string)).toMatchObject({ model: adapter.knownModels[0], stream: true, stream_options: { include_usage: true } });
    expect(adapter.type).toBe('cerebras');
    expect(adapter.credentialStyle).toBe('value');
  });

  it('has no embeddings operation', async () => {
    expect(adapter.embeddings).toBeUndefined();
  });
});
