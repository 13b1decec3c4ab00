/**
 * What the malformed embedding reply tests check of every answer: a status below 500 or a 502/504 in the error
 * shape, or a 200 whose body is a valid OpenAI embeddings list, and the API key's reservation settled after each
 * request.
 */
import { expect } from 'vitest';
import type { RawReply } from '../mocks/mock-server.js';
import type { EmbeddingFamily } from './malformed-embedding-families.js';
import { expectSettled, type MeteredClient } from './malformed-reply-gateway.js';
import { parseJson } from './malformed-reply-support.js';

/** How the client asks for its vectors: as float lists, or as base64 of float32s. */
export type Encoding = 'float' | 'base64';

/** What a client got, once its form was checked. */
export interface Answer {
  status: number;
  text: string;
  /** The vectors the client received, as floats (base64 decoded); empty unless the answer is a 200. */
  vectors: number[][];
  /** The prompt tokens the client was shown. */
  promptTokens: number | undefined;
}

/**
 * The float32s of a base64 vector, or undefined when the text is not canonical base64 of whole float32s: what an
 * OpenAI SDK decodes, which takes no padding-less or stray characters.
 */
function decodeBase64Floats(text: unknown): number[] | undefined {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0 || bytes.toString('base64') !== text) return undefined;
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

/** Checks a 200 body is a valid OpenAI embeddings list for `count` inputs; returns its vectors as floats. */
function expectEmbeddingList(text: string, count: number, encoding: Encoding, context: string): { vectors: number[][]; promptTokens: number } {
  const body = parseJson(text);
  expect(body, context).toMatchObject({ object: 'list', model: expect.any(String), data: expect.any(Array), usage: expect.any(Object) });
  expect(body.data.length, context).toBe(count);
  const vectors = (body.data as unknown[]).map((item, position) => {
    expect(item, context).toMatchObject({ object: 'embedding', index: position });
    const embedding = (item as { embedding: unknown }).embedding;
    const vector = encoding === 'base64' ? decodeBase64Floats(embedding) : embedding;
    expect(Array.isArray(vector) && vector.length > 0, `${context}: a vector of ${encoding} values`).toBe(true);
    for (const value of vector as unknown[]) expect(typeof value === 'number' && Number.isFinite(value), `${context}: ${String(value)} in a vector`).toBe(true);
    return vector as number[];
  });
  for (const name of ['prompt_tokens', 'total_tokens']) {
    const value = body.usage[name];
    expect(Number.isSafeInteger(value) && value >= 0, `${name} in ${context}`).toBe(true);
  }
  return { vectors, promptTokens: body.usage.prompt_tokens };
}

/**
 * The tests' `tryReply`, sending as the client of the moment: each test has a key of its own, so the client is looked
 * up at each request rather than once.
 */
export function tryEmbeddingReplyAs(currentClient: () => MeteredClient) {
  /** Sends an embeddings request the family's mock answers with `reply`, and checks the answer and the settlement. */
  return async function tryReply(target: EmbeddingFamily, reply: RawReply, label: string, encoding: Encoding = 'float'): Promise<Answer> {
    const client = currentClient();
    const before = target.upstreamRequests();
    target.answer({ ...(target.headers ? { headers: target.headers } : {}), ...reply });
    const context = `${target.name} ${label} (${encoding})`;
    const response = await fetch(`${client.tollgate.url}/v1/embeddings`, {
      method: 'POST',
      headers: client.clientHeaders,
      body: JSON.stringify({ model: target.model, input: target.inputs.length === 1 ? target.inputs[0] : target.inputs, encoding_format: encoding }),
    });
    // The read completes: an answer that never ended would hang here (and fail on the test's timeout).
    const text = await response.text();
    const status = response.status;
    const described = `${context}: ${status} ${text.slice(0, 600)}`;
    // The scripted reply was the one played: the upstream was asked.
    expect(target.upstreamRequests(), `${context}: the upstream was asked`).toBeGreaterThan(before);
    expect(status < 500 || status === 502 || status === 504, described).toBe(true);
    let answer: Answer;
    if (status === 200) {
      answer = { status, text, ...expectEmbeddingList(text, target.inputs.length, encoding, described) };
    } else {
      expect(parseJson(text), described).toMatchObject({ status_code: status, error: { message: expect.any(String), type: expect.any(String), code: expect.any(String) } });
      answer = { status, text, vectors: [], promptTokens: undefined };
    }
    // After each request the key holds nothing: its reservation was settled, whatever the reply.
    await expectSettled(client.tollgate, client.apiKeyId, context);
    return answer;
  };
}
