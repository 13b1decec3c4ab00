import type { EmbeddingResponse } from '../../spec/openai.js';

/**
 * Base64 embeddings: little-endian float32 values, the encoding OpenAI's SDKs ask for by default. On a little-endian
 * host (x86, ARM) the bytes are the memory of a Float32Array, read and written in place: a loop of `readFloatLE` or
 * `writeFloatLE` took about ten times as long for a vector of 1,536 values.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Base64 of the float32 values of `embedding`, each rounded to float32 as `writeFloatLE` rounds it. */
export function encodeEmbedding(embedding: number[]): string {
  const values = Float32Array.from(embedding);
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
  const bytes = Buffer.allocUnsafe(values.length * 4);
  for (let index = 0; index < values.length; index += 1) bytes.writeFloatLE(values[index]!, index * 4);
  return bytes.toString('base64');
}

/** The float32 values held by little-endian bytes (whose length is a multiple of four), in place where the host allows. */
export function float32sOf(bytes: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const values = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let index = 0; index < values.length; index += 1) values[index] = view.getFloat32(index * 4, true);
  return values;
}

/**
 * The JSON text of an embeddings list, as `JSON.stringify(list)` writes it, except that a vector with a text in
 * `vectorTexts` (by position; the upstream's own JSON for that very vector) is copied from it: serialising 1,536
 * numbers cost more than parsing them.
 */
export function embeddingListText(list: EmbeddingResponse, vectorTexts: readonly (string | undefined)[] | undefined): string {
  if (vectorTexts === undefined) return JSON.stringify(list);
  let data = '';
  for (let position = 0; position < list.data.length; position += 1) {
    const item = list.data[position]!;
    const vector = vectorTexts[position] ?? JSON.stringify(item.embedding);
    data += `${position === 0 ? '' : ','}{"object":${JSON.stringify(item.object)},"index":${item.index},"embedding":${vector}}`;
  }
  return `{"object":${JSON.stringify(list.object)},"data":[${data}],"model":${JSON.stringify(list.model)},"usage":${JSON.stringify(list.usage)}}`;
}
