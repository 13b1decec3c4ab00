import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { CompatibleDescription } from './description.js';
import { buildEmbeddingBody, createEmbeddingOperation, parseEmbeddingResponse } from './embeddings.js';
import { createTestContext } from './test-support.js';

describe('buildEmbeddingBody', () => {
  it('replaces the model and leaves encoding_format as sent, or absent', () => {
    expect(buildEmbeddingBody({ model: 'client', input: 'a', encoding_format: 'base64' }, { model: 'upstream' })).toEqual({
      model: 'upstream',
      input: 'a',
      encoding_format: 'base64',
    });
    expect(buildEmbeddingBody({ model: 'client', input: ['a'] }, { model: 'upstream' })).not.toHaveProperty('encoding_format');
  });

  it('refuses token-id inputs unless the server accepts them', () => {
    let caught: unknown;
    try {
      buildEmbeddingBody({ model: 'client', input: [[1, 2], [3]] }, { model: 'upstream' });
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.status === 400 && caught.param === 'input').toBe(true);
    expect(buildEmbeddingBody({ model: 'client', input: [1, 2] }, { model: 'upstream', rules: { acceptTokenInputs: true } }).input).toEqual([1, 2]);
  });

  it('applies renames and drops', () => {
    const body = buildEmbeddingBody({ model: 'client', input: 'a', dimensions: 256, user: 'u' }, {
      model: 'upstream',
      rules: { renameFields: { dimensions: 'output_dimension' }, dropFields: ['user'] },
    });
    expect(body).toEqual({ model: 'upstream', input: 'a', output_dimension: 256 });
  });
});

describe('parseEmbeddingResponse', () => {
  it('reads the documented OpenAI list and its usage', () => {
    const { result, usage } = parseEmbeddingResponse(readFileSync(new URL('./fixtures/openai-embeddings.json', import.meta.url)), {
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
    });
    expect(result.data.map((item) => item.index)).toEqual([0, 1]);
    expect(result.data[0]?.embedding).toEqual([0.0023064255, -0.009327292, 0.015797347, -0.0028842222]);
    expect(result.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    expect(usage).toEqual({ inputTokens: 8, outputTokens: 0, cachedInputTokens: 0 });
  });

  it('keeps base64 vectors as received, orders by index and tolerates missing usage', () => {
    const body = JSON.stringify({
      object: 'list',
      data: [
        { object: 'embedding', index: 1, embedding: 'AACAPw==' },
        { object: 'embedding', index: 0, embedding: 'AAAAQA==' },
      ],
    });
    const { result, usage } = parseEmbeddingResponse(body, { model: 'client-model', input: ['a', 'b'] });
    expect(result.data).toEqual([
      { object: 'embedding', index: 0, embedding: 'AAAAQA==' },
      { object: 'embedding', index: 1, embedding: 'AACAPw==' },
    ]);
    expect(result.model).toBe('client-model');
    expect(result.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
    expect(usage).toBeUndefined();
  });

  it('fails with a 502 when the reply has no data list', () => {
    expect(() => parseEmbeddingResponse('{"object":"list"}', { model: 'm', input: 'a' })).toThrow(/no data list/);
  });
});

describe('createEmbeddingOperation', () => {
  it('builds one request to the embeddings path of the resolved base URL', async () => {
    const description: CompatibleDescription = {
      type: 'example',
      displayName: 'Example',
      defaultBaseUrl: 'https://api.example.com/v1/',
      credentialStyle: 'value',
      knownModels: [],
    };
    const requests = await createEmbeddingOperation(description).buildRequests({ model: 'client', input: 'a' }, createTestContext({ model: 'emb' }));
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe('https://api.example.com/v1/embeddings');
    expect(requests[0]?.headers.authorization).toBe('Bearer sk-test-key-0001');
    expect(JSON.parse(requests[0]?.body as string)).toEqual({ model: 'emb', input: 'a' });
  });
});
