import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { ProviderContext, ResolvedKey, UpstreamResponse } from '../../spec/provider.js';
import { buildBedrockEmbeddingRequests, COHERE_BATCH_SIZE, parseBedrockEmbeddingResponses } from './bedrock-embeddings.js';

function contextFor(model: string, key: Partial<ResolvedKey> = {}): ProviderContext {
  return {
    provider: { name: 'bedrock', adapterType: 'bedrock', network: { extraHeaders: {}, timeoutMs: 1000, maxRetries: 0, retryBackoffInitialMs: 1, retryBackoffMaxMs: 1 } },
    key: { id: 'k', name: 'k', provider: 'bedrock', value: 'ABSKexample', bedrock: { region: 'eu-west-1', deployments: {} }, ...key },
    model,
    requestId: 'req-1',
    send: async () => {
      throw new Error('not used');
    },
    now: () => Date.UTC(2025, 0, 1),
  };
}

function fixtureReply(name: string, headers: Record<string, string> = {}): UpstreamResponse {
  return { status: 200, headers, body: readFileSync(new URL(`./fixtures/${name}`, import.meta.url)) };
}

describe('Bedrock embeddings', () => {
  it('fans Titan out to one InvokeModel call per text', async () => {
    const context = contextFor('amazon.titan-embed-text-v2:0');
    const requests = await buildBedrockEmbeddingRequests({ model: 'titan', input: ['one', 'two'], dimensions: 256 }, context);
    expect(requests.map((request) => request.url)).toEqual([
      'https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke',
      'https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke',
    ]);
    expect(requests.map((request) => JSON.parse(String(request.body)))).toEqual([
      { inputText: 'one', dimensions: 256 },
      { inputText: 'two', dimensions: 256 },
    ]);
    expect(requests[0]?.headers.authorization).toBe('Bearer ABSKexample');
  });

  it('sums Titan token counts and keeps the request order', () => {
    const context = contextFor('amazon.titan-embed-text-v2:0');
    const first = fixtureReply('titan-embed-response.json');
    const second: UpstreamResponse = { status: 200, headers: {}, body: new TextEncoder().encode('{"embedding":[1,2,3,4],"inputTextTokenCount":3}') };
    const { result, usage } = parseBedrockEmbeddingResponses([first, second], { model: 'titan', input: ['a', 'b'] }, context);
    expect(result.data).toEqual([
      { object: 'embedding', index: 0, embedding: [0.0123, -0.0456, 0.0789, 0.0012] },
      { object: 'embedding', index: 1, embedding: [1, 2, 3, 4] },
    ]);
    expect(result.usage).toEqual({ prompt_tokens: 10, total_tokens: 10 });
    expect(usage).toEqual({ inputTokens: 10, outputTokens: 0, cachedInputTokens: 0 });
  });

  it('sends Cohere texts in batches of 96 with the default input type', async () => {
    const context = contextFor('cohere.embed-english-v3');
    const texts = Array.from({ length: COHERE_BATCH_SIZE + 4 }, (_, index) => `text ${index}`);
    const requests = await buildBedrockEmbeddingRequests({ model: 'cohere', input: texts }, context);
    const bodies = requests.map((request) => JSON.parse(String(request.body)) as { texts: string[]; input_type: string });
    expect(bodies.map((body) => body.texts.length)).toEqual([96, 4]);
    expect(bodies.every((body) => body.input_type === 'search_document')).toBe(true);
    const custom = await buildBedrockEmbeddingRequests({ model: 'cohere', input: 'q', input_type: 'search_query' }, context);
    expect(JSON.parse(String(custom[0]?.body))).toEqual({ texts: ['q'], input_type: 'search_query' });
  });

  it('reads Cohere vectors and the token count header', () => {
    const context = contextFor('cohere.embed-english-v3');
    const { result } = parseBedrockEmbeddingResponses(
      [fixtureReply('cohere-embed-response.json', { 'X-Amzn-Bedrock-Input-Token-Count': '4' })],
      { model: 'cohere', input: ['hello world', 'goodbye moon'] },
      context,
    );
    expect(result.data.map((entry) => entry.embedding)).toEqual([
      [0.011, 0.022, -0.033],
      [0.044, -0.055, 0.066],
    ]);
    expect(result.usage.prompt_tokens).toBe(4);
  });

  it('refuses token inputs, unknown models and dimensions on Cohere v3', async () => {
    const failures = await Promise.all([
      buildBedrockEmbeddingRequests({ model: 'titan', input: [1, 2, 3] }, contextFor('amazon.titan-embed-text-v2:0')).catch((error) => error),
      buildBedrockEmbeddingRequests({ model: 'x', input: 'hi' }, contextFor('anthropic.claude-3-haiku-20240307-v1:0')).catch((error) => error),
      buildBedrockEmbeddingRequests({ model: 'c', input: 'hi', dimensions: 256 }, contextFor('cohere.embed-english-v3')).catch((error) => error),
    ]);
    expect(failures.map((error) => (isGatewayError(error) ? [error.status, error.param] : error))).toEqual([
      [400, 'input'],
      [400, 'model'],
      [400, 'dimensions'],
    ]);
  });
});
