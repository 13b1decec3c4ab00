/**
 * What an embeddings client receives for each pairing of the encoding it asked for and the encoding the upstream
 * answered in. A base64 answer to a base64 request goes out as the upstream wrote it (OpenAI's SDKs ask for base64 by
 * default, so this is the usual case), padded where the upstream left the padding out; a float answer to a float
 * request keeps the upstream's own spelling of each vector; every other pairing is converted; a vector holding a value
 * no float32 client can use is a 502 whatever was asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { immediateRetries, post } from './inference-helpers.js';

const model = 'openai/text-embedding-3-small';

/** Little-endian float32 bytes of `values`, as base64 (padded, as OpenAI writes it). */
function base64Of(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

/** An upstream embeddings list holding `vectors` as given (floats or base64 text). */
function upstreamList(vectors: Array<number[] | string>): Record<string, unknown> {
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 2, total_tokens: 2 },
  };
}

describe('embedding encodings', () => {
  let mock: OpenAIMock;
  let tollgate: LiveGateway;
  // Float32-exact values, so that a conversion either way compares equal; five of them (20 bytes) so that their base64
  // ends in padding.
  const first = [0.5, -0.25, 1.5, 0.125, -3];
  const second = [2, -0.5, 0.75, 0, -1.25];

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: ['sk-embed'] });
    tollgate = await startLiveGateway();
    await tollgate.configureProvider('openai', { network_config: { base_url: mock.baseUrl, max_retries: 0, ...immediateRetries } });
    await tollgate.addKey('openai', { name: 'primary', value: 'sk-embed' });
  });
  afterAll(async () => {
    await tollgate.dispose();
    await mock.close();
  });

  async function embed(encoding: 'float' | 'base64', reply: Record<string, unknown>) {
    mock.enqueue({ status: 200, body: reply });
    return post(tollgate, '/v1/embeddings', { model, input: ['a', 'b'], encoding_format: encoding });
  }

  it('passes a base64 answer to a base64 request through as the upstream wrote it', async () => {
    // The second vector's last character carries pad bits a re-encoding would clear: the text itself is what goes out.
    const canonical = base64Of(second);
    expect(canonical).toMatch(/[^=]=$/);
    const unusual = `${canonical.slice(0, -2)}${String.fromCharCode(canonical.charCodeAt(canonical.length - 2) + 1)}=`;
    expect(Buffer.from(unusual, 'base64')).toEqual(Buffer.from(canonical, 'base64'));
    const reply = await embed('base64', upstreamList([base64Of(first), unusual]));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data.map((item: { embedding: string }) => item.embedding)).toEqual([base64Of(first), unusual]);
    expect(reply.body.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it('pads a base64 answer that came without its padding', async () => {
    const padded = base64Of(second);
    expect(padded.endsWith('=')).toBe(true);
    const reply = await embed('base64', upstreamList([base64Of(first), padded.replace(/=+$/, '')]));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data.map((item: { embedding: string }) => item.embedding)).toEqual([base64Of(first), padded]);
  });

  it('decodes a base64 answer for a client that asked for floats, and encodes floats for one that asked for base64', async () => {
    const decoded = await embed('float', upstreamList([base64Of(first), base64Of(second)]));
    expect(decoded.status, decoded.text).toBe(200);
    expect(decoded.body.data.map((item: { embedding: number[] }) => item.embedding)).toEqual([first, second]);
    const encoded = await embed('base64', upstreamList([first, second]));
    expect(encoded.status, encoded.text).toBe(200);
    expect(encoded.body.data.map((item: { embedding: string }) => item.embedding)).toEqual([base64Of(first), base64Of(second)]);
  });

  it("copies each float vector of a float answer to a float request from the upstream's text, wherever it sits", async () => {
    // Out of index order, spelled as no serialiser would, beside other members (one of them named like a vector's).
    const raw = String.raw`{"object":"list","data":[ {"index":1,"object":"embedding","embedding":[ 2.0,-5E-1 ,0.75, 0, -1.25e0]} ,
      {"embedding":[0.50, -0.25,1.5,0.125,-3.0],"extra":{"embedding":"]["},"index":0,"object":"embedding"}],
      "model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2,"embedding":[9]}}`;
    mock.enqueue({ raw, contentType: 'application/json' });
    const reply = await post(tollgate, '/v1/embeddings', { model, input: ['a', 'b'], encoding_format: 'float' });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.text).toContain('"index":0,"embedding":[0.50, -0.25,1.5,0.125,-3.0]}');
    expect(reply.text).toContain('"index":1,"embedding":[ 2.0,-5E-1 ,0.75, 0, -1.25e0]}');
    expect(reply.body).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: first },
        { object: 'embedding', index: 1, embedding: second },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
  });

  it('answers 502 for a float vector holding a value beyond float32, copied or not', async () => {
    const reply = await embed('float', upstreamList([first, [1, 2, 3e39, 4, 5]]));
    expect(reply.status, reply.text).toBe(502);
    expect(reply.body.error.message).toMatch(/embedding 1/);
  });

  it('answers 502 for a base64 vector holding NaN or Infinity, or of another size than the others, whatever was asked', async () => {
    for (const encoding of ['float', 'base64'] as const) {
      for (const bad of [base64Of([0.5, Number.NaN, 1, 2, 3]), base64Of([0.5, Number.POSITIVE_INFINITY, 1, 2, 3]), base64Of([1, 2, 3])]) {
        const reply = await embed(encoding, upstreamList([base64Of(first), bad]));
        expect(reply.status, reply.text).toBe(502);
        expect(reply.body.error.message).toMatch(/embedding 1/);
      }
    }
  });
});
