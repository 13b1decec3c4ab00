import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import { fromCohereEmbedResponses, toCohereEmbedBodies } from './embeddings.js';
import type { CohereEmbedResponse } from './wire-types.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/embed-response.json', import.meta.url), 'utf8')) as CohereEmbedResponse;

describe('toCohereEmbedBodies', () => {
  it('sends one body with the default input type and float embeddings', () => {
    expect(toCohereEmbedBodies({ model: 'embed-v4.0', input: 'hello', dimensions: 256 }, 'embed-v4.0')).toEqual([
      { model: 'embed-v4.0', texts: ['hello'], input_type: 'search_document', embedding_types: ['float'], output_dimension: 256 },
    ]);
  });

  it('fans out more than 96 texts in order and forwards input_type', () => {
    const input = Array.from({ length: 200 }, (_, index) => `text ${index}`);
    const bodies = toCohereEmbedBodies({ model: 'embed-v4.0', input, input_type: 'search_query' }, 'embed-v4.0');
    expect(bodies.map((body) => body.texts.length)).toEqual([96, 96, 8]);
    expect(bodies.flatMap((body) => body.texts)).toEqual(input);
    expect(bodies.every((body) => body.input_type === 'search_query')).toBe(true);
  });

  it('refuses token arrays and empty input', () => {
    for (const input of [[1, 2, 3], [[1, 2]], []]) {
      try {
        toCohereEmbedBodies({ model: 'embed-v4.0', input }, 'embed-v4.0');
        throw new Error('expected an error');
      } catch (error) {
        expect(isGatewayError(error) && error.status).toBe(400);
      }
    }
  });
});

describe('fromCohereEmbedResponses', () => {
  it('translates the documented reply with its billed tokens', () => {
    const bodies = toCohereEmbedBodies({ model: 'embed-v4.0', input: ['hello', 'goodbye'] }, 'embed-v4.0');
    const { result, usage } = fromCohereEmbedResponses([fixture], bodies, 'embed-v4.0');
    expect(result).toEqual({
      object: 'list',
      model: 'embed-v4.0',
      data: [
        { object: 'embedding', index: 0, embedding: [0.016296387, -0.008354187, -0.04699707] },
        { object: 'embedding', index: 1, embedding: [0.0287323, -0.0093307495, 0.0011634827] },
      ],
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
    expect(usage).toEqual({ inputTokens: 2, outputTokens: 0, cachedInputTokens: 0 });
  });

  it('numbers embeddings across batches and sums their tokens', () => {
    const input = Array.from({ length: 97 }, (_, index) => `t${index}`);
    const bodies = toCohereEmbedBodies({ model: 'm', input }, 'm');
    const replies: CohereEmbedResponse[] = bodies.map((body, batch) => ({
      embeddings: { float: body.texts.map((_, index) => [batch, index]) },
      meta: { billed_units: { input_tokens: body.texts.length } },
    }));
    const { result, usage } = fromCohereEmbedResponses(replies, bodies, 'm');
    expect(result.data).toHaveLength(97);
    expect(result.data[96]).toEqual({ object: 'embedding', index: 96, embedding: [1, 0] });
    expect(usage?.inputTokens).toBe(97);
  });

  it('rejects a reply with the wrong number of vectors and reports no usage when none was billed', () => {
    const bodies = toCohereEmbedBodies({ model: 'm', input: ['a', 'b'] }, 'm');
    expect(() => fromCohereEmbedResponses([{ embeddings: { float: [[1]] } }], bodies, 'm')).toThrow(/1 float embeddings for 2 texts/);
    expect(fromCohereEmbedResponses([{ embeddings: { float: [[1], [2]] } }], bodies, 'm').usage).toBeUndefined();
  });
});
