import { describe, expect, it } from 'vitest';
import type { EmbeddingResponse } from '../../spec/openai.js';
import { embeddingListText, encodeEmbedding, float32sOf } from './embedding-encoding.js';
import { seededRandom } from '../../../test/support/json-fuzz.js';

/** What the encoding was before it went through Float32Array: one `writeFloatLE` a value. */
function encodedValueByValue(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

describe('embedding encoding', () => {
  const random = seededRandom(7);
  // Doubles that float32 must round (in both directions, ties included), its extremes, zeros of both signs.
  const values = [
    ...Array.from({ length: 200 }, () => (random.next() - 0.5) * 10 ** Math.floor(random.next() * 20 - 10)),
    1 + 2 ** -24,
    1 + 3 * 2 ** -24,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    1.401298464324817e-45,
    0,
    -0,
  ];

  it('encodes as writing each value as a little-endian float32 does', () => {
    expect(encodeEmbedding(values)).toBe(encodedValueByValue(values));
    expect(encodeEmbedding([])).toBe('');
  });

  it('reads float32 values back from the bytes, whether or not they start on a four-byte boundary', () => {
    const bytes = Buffer.from(encodedValueByValue(values), 'base64');
    const expected = values.map((_, index) => bytes.readFloatLE(index * 4));
    expect(Array.from(float32sOf(bytes))).toEqual(expected);
    // The same bytes one byte into a larger buffer: they cannot be viewed in place, so they are copied.
    const shifted = Buffer.alloc(bytes.length + 1);
    bytes.copy(shifted, 1);
    const unaligned = shifted.subarray(1);
    expect(unaligned.byteOffset % 4).not.toBe(0);
    expect(Array.from(float32sOf(unaligned))).toEqual(expected);
  });
});

describe('embeddingListText', () => {
  const list: EmbeddingResponse = {
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: [0.5, -0.001, -0] },
      { object: 'embedding', index: 1, embedding: 'AAAAPw==' },
      { object: 'embedding', index: 2, embedding: [1e-7, 2] },
    ],
    model: 'text-"embedding"-3',
    usage: { prompt_tokens: 3, total_tokens: 3 },
  };

  it('writes what JSON.stringify writes, with or without texts that spell the vectors the same way', () => {
    expect(embeddingListText(list, undefined)).toBe(JSON.stringify(list));
    expect(embeddingListText(list, list.data.map((item) => JSON.stringify(item.embedding)))).toBe(JSON.stringify(list));
    expect(embeddingListText(list, [undefined, undefined, undefined])).toBe(JSON.stringify(list));
  });

  it("copies each vector's text where there is one, as the upstream spelled it", () => {
    const text = embeddingListText(list, ['[0.50, -1E-3 ,\n -0.0]', undefined, '[ 1.0e-7,2 ]']);
    expect(text).toContain('"embedding":[0.50, -1E-3 ,\n -0.0]}');
    expect(text).toContain('"embedding":[ 1.0e-7,2 ]}');
    expect(JSON.parse(text)).toEqual(list);
  });
});
