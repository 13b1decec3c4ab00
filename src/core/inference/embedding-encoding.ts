/** Base64 of little-endian float32 values: the encoding OpenAI's SDKs ask for by default. */
export function encodeEmbedding(embedding: number[] | string): string {
  if (typeof embedding === 'string') return embedding;
  const buffer = Buffer.allocUnsafe(embedding.length * 4);
  for (let index = 0; index < embedding.length; index += 1) buffer.writeFloatLE(embedding[index]!, index * 4);
  return buffer.toString('base64');
}

/** Floats from a base64 little-endian float32 string (or the floats themselves). */
export function decodeEmbedding(embedding: number[] | string): number[] {
  if (typeof embedding !== 'string') return embedding;
  const buffer = Buffer.from(embedding, 'base64');
  const values = new Array<number>(Math.floor(buffer.length / 4));
  for (let index = 0; index < values.length; index += 1) values[index] = buffer.readFloatLE(index * 4);
  return values;
}
