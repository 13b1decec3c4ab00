import { describe, expect, it } from 'vitest';
import {
  buildBatchEmbedContentsBodies,
  buildVertexPredictBodies,
  parseBatchEmbedContents,
  parseVertexPredict,
} from './embeddings.js';

describe('Gemini batchEmbedContents', () => {
  it('builds one request per input, 100 per body, with dimensions and task type', () => {
    const inputs = Array.from({ length: 150 }, (_, index) => `text ${index}`);
    const bodies = buildBatchEmbedContentsBodies({ model: 'x', input: inputs, dimensions: 256, task_type: 'RETRIEVAL_QUERY' }, 'text-embedding-004');
    expect(bodies).toHaveLength(2);
    const requests = bodies.map((body) => body.requests as unknown[]);
    expect(requests.map((list) => list.length)).toEqual([100, 50]);
    expect(requests[1]?.[0]).toEqual({
      model: 'models/text-embedding-004',
      content: { parts: [{ text: 'text 100' }] },
      taskType: 'RETRIEVAL_QUERY',
      outputDimensionality: 256,
    });
  });

  it('refuses token-id input', () => {
    expect(() => buildBatchEmbedContentsBodies({ model: 'x', input: [1, 2, 3] }, 'm')).toThrowError(/token-id/);
    expect(() => buildBatchEmbedContentsBodies({ model: 'x', input: [] }, 'm')).toThrowError(/empty/);
  });

  it('combines replies in order', () => {
    const { result, usage } = parseBatchEmbedContents(
      [{ embeddings: [{ values: [0.1, 0.2] }, { values: [0.3, 0.4] }] }, { embeddings: [{ values: [0.5, 0.6] }] }],
      'text-embedding-004',
    );
    expect(result).toEqual({
      object: 'list',
      model: 'text-embedding-004',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        { object: 'embedding', index: 1, embedding: [0.3, 0.4] },
        { object: 'embedding', index: 2, embedding: [0.5, 0.6] },
      ],
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    expect(usage).toBeUndefined();
    expect(() => parseBatchEmbedContents([{ nope: true }], 'm')).toThrowError(/unexpected/);
  });
});

describe('Vertex predict embeddings', () => {
  it('batches text-embedding models and sends gemini-embedding inputs one per call', () => {
    expect(buildVertexPredictBodies({ model: 'x', input: ['a', 'b'], dimensions: 128 }, 'text-embedding-005')).toEqual([
      { instances: [{ content: 'a' }, { content: 'b' }], parameters: { outputDimensionality: 128 } },
    ]);
    expect(buildVertexPredictBodies({ model: 'x', input: ['a', 'b'], taskType: 'CLUSTERING' }, 'gemini-embedding-001')).toEqual([
      { instances: [{ content: 'a', task_type: 'CLUSTERING' }] },
      { instances: [{ content: 'b', task_type: 'CLUSTERING' }] },
    ]);
  });

  it('sums token counts from the statistics', () => {
    const { result, usage } = parseVertexPredict(
      [
        { predictions: [{ embeddings: { values: [1, 2], statistics: { token_count: 3, truncated: false } } }] },
        { predictions: [{ embeddings: { values: [3, 4], statistics: { token_count: 5, truncated: false } } }] },
      ],
      'gemini-embedding-001',
    );
    expect(result.data.map((entry) => entry.embedding)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(result.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    expect(usage).toEqual({ inputTokens: 8, outputTokens: 0, cachedInputTokens: 0 });
  });
});
