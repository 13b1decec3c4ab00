import { describe, expect, it } from 'vitest';
import { createTestContext } from '../openai-compatible/test-support.js';
import { createPerplexityAdapter } from './index.js';

const adapter = createPerplexityAdapter({});
const request = { model: 'sonar', messages: [{ role: 'user' as const, content: 'news?' }], search_recency_filter: 'week' };

describe('Perplexity adapter', () => {
  it('posts to /chat/completions without a /v1 segment and forwards its search fields', async () => {
    const upstream = await adapter.chat.buildRequest(request, createTestContext({ adapterType: 'perplexity', model: 'sonar' }), { stream: false });
    expect(upstream.url).toBe('https://api.perplexity.ai/chat/completions');
    expect(JSON.parse(upstream.body as string).search_recency_filter).toBe('week');
  });

  it('keeps a configured base URL that ends in /v1 working', async () => {
    const context = createTestContext({ adapterType: 'perplexity', baseUrl: 'https://proxy.internal/perplexity/v1/' });
    expect((await adapter.chat.buildRequest(request, context, { stream: false })).url).toBe('https://proxy.internal/perplexity/v1/chat/completions');
  });

  it('passes citations through and has no embeddings', async () => {
    const body = { id: 'p', object: 'chat.completion', created: 1, model: 'sonar', citations: ['https://example.com'], choices: [] };
    const result = await adapter.chat.parseResponse(
      { status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) },
      createTestContext(),
    );
    expect(result.completion.citations).toEqual(['https://example.com']);
    expect(adapter.embeddings).toBeUndefined();
  });
});
