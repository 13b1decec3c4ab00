/**
 * Malformed and unexpected upstream replies to embeddings requests, for every embedding-capable provider family.
 * Whatever an upstream answers (a proxy's HTML page, a body cut short, JSON of the wrong shape, vectors holding
 * text, nulls or numbers a float cannot carry, a wrong number of vectors, token counts that are no counts), a
 * client gets a status below 500 or a 502/504 in the error shape, or a 200 whose body is a valid OpenAI embeddings
 * list (every vector finite floats, or base64 of finite float32s), and the API key's reservation is settled after
 * each request. The key allows one request at a time, so a leaked reservation would also refuse the next request
 * with 429.
 *
 * The mocks still check what each real provider demands (path, credentials, body) before playing the scripted
 * reply. Beside the explicit cases, a seeded fuzz mutates each family's valid reply (a member at any depth replaced
 * by a value of another JSON type or deleted, the body cut short).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAzureMock, type AzureMock } from '../mocks/azure-mock.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startCohereMock, type CohereMock } from '../mocks/cohere-mock.js';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import type { RawReply } from '../mocks/mock-server.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { seededRandom } from '../inference/inference-helpers.js';
import { startLiveGateway, type LiveGateway } from '../support/live-gateway.js';
import { expectSettled, keyProviders, singleFlightApiKey, withoutRetries } from './malformed-reply-gateway.js';
import { clone, json, mutateMember, notReplies, parseJson, setAt, withRawNumber, type Json, type JsonObject } from './malformed-reply-support.js';
import { createKeyPair } from './vertex-support.js';

type Path = Array<string | number>;
type Encoding = 'float' | 'base64';

/** One provider family under test: its model, its valid reply, and where in that reply its vectors and counts are. */
interface Family {
  name: string;
  model: string;
  /** The texts each request embeds. */
  inputs: string[];
  /** The valid reply, its vectors as floats. */
  valid: JsonObject;
  /** The valid reply to a request for base64 (an OpenAI-compatible upstream is asked for what the client asked). */
  validBase64?: JsonObject;
  /** Headers the valid reply comes with. */
  headers?: Record<string, string>;
  /** The vectors of the valid reply, in input order. */
  vectors: number[][];
  /** The prompt tokens the valid reply reports. */
  promptTokens: number;
  /** The path to the list of vectors (or of the entries holding them). */
  list: Path;
  /** The paths to each vector (a list of numbers), in input order. */
  vectorPaths: Path[];
  /** Paths to token counts in the reply. */
  usageCounts: Path[];
  /** The header that carries the token count, for families that report it there. */
  usageHeader?: string;
  /** Queues the reply to the next upstream request. */
  answer(reply: RawReply): void;
  /** Upstream requests the family's mock received so far. */
  upstreamRequests(): number;
}

let openaiMock: OpenAIMock;
let azureMock: AzureMock;
let googleMock: GoogleMock;
let bedrockMock: BedrockMock;
let cohereMock: CohereMock;
let tollgate: LiveGateway;
let apiKeyId: string;
let clientHeaders: Record<string, string>;

// --- Valid replies --------------------------------------------------------------------------------------------

/** Values float32 holds exactly, so that base64 answers decode to the very numbers sent. */
const first = [0.5, -0.25, 0.125, 1];
const second = [-1, 0.75, 0, 0.0625];
const twoInputs = ['hello', 'world'];

/** Base64 of little-endian float32s, as OpenAI sends with `encoding_format: base64`. */
function base64Floats(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => buffer.writeFloatLE(value, index * 4));
  return buffer.toString('base64');
}

const openaiList = (encode: (vector: number[]) => Json): JsonObject => ({
  object: 'list',
  data: [
    { object: 'embedding', index: 0, embedding: encode(first) },
    { object: 'embedding', index: 1, embedding: encode(second) },
  ],
  model: 'text-embedding-3-small',
  usage: { prompt_tokens: 4, total_tokens: 4 },
});

function openaiFamily(name: string, model: string, mock: OpenAIMock | AzureMock): Family {
  return {
    name,
    model,
    inputs: twoInputs,
    valid: openaiList((vector) => vector),
    validBase64: openaiList(base64Floats),
    vectors: [first, second],
    promptTokens: 4,
    list: ['data'],
    vectorPaths: [['data', 0, 'embedding'], ['data', 1, 'embedding']],
    usageCounts: [['usage', 'prompt_tokens'], ['usage', 'total_tokens']],
    answer: (reply) => mock.enqueue(reply),
    upstreamRequests: () => mock.requests.length,
  };
}

const families: Family[] = [];

// --- The gateway and its upstreams ---------------------------------------------------------------------------

beforeAll(async () => {
  const keyPair = createKeyPair();
  openaiMock = await startOpenAIMock({ apiKeys: ['sk-openai'] });
  azureMock = await startAzureMock({ apiKeys: ['azure-key'], deployments: { 'embed-prod': 'text-embedding-3-small' } });
  googleMock = await startGoogleMock({ apiKeys: ['gemini-key'], serviceAccountPublicKeyPem: keyPair.publicKeyPem });
  bedrockMock = await startBedrockMock({ credentials: { accessKeyId: 'AKIATOLLGATEFUZZ0003', secretAccessKey: 'fuzz-secret' }, apiKeys: ['bedrock-key'], region: 'us-east-1' });
  cohereMock = await startCohereMock({ apiKeys: ['cohere-key'] });
  tollgate = await startLiveGateway({ adapterOptions: { azureAuthorityHost: azureMock.baseUrl } });
  await keyProviders(
    tollgate,
    [
      ['openai', openaiMock.baseUrl, 'sk-openai'],
      ['gemini', googleMock.baseUrl, 'gemini-key'],
      ['bedrock', bedrockMock.baseUrl, 'bedrock-key'],
      ['cohere', cohereMock.baseUrl, 'cohere-key'],
    ],
    { googleMock, keyPair },
  );
  // Azure keys name their resource endpoint themselves.
  await tollgate.configureProvider('azure', withoutRetries());
  await tollgate.addKey('azure', {
    name: 'azure',
    value: 'azure-key',
    azure_key_config: { endpoint: azureMock.baseUrl, deployments: { 'text-embedding-3-small': 'embed-prod' }, api_version: '2025-01-01-preview' },
  });
  await useFreshApiKey();

  families.push(
    openaiFamily('openai-compatible', 'openai/text-embedding-3-small', openaiMock),
    openaiFamily('azure', 'azure/text-embedding-3-small', azureMock),
    {
      name: 'gemini',
      model: 'gemini/gemini-embedding-001',
      inputs: twoInputs,
      valid: { embeddings: [{ values: first }, { values: second }], usageMetadata: { promptTokenCount: 4 } },
      vectors: [first, second],
      promptTokens: 4,
      list: ['embeddings'],
      vectorPaths: [['embeddings', 0, 'values'], ['embeddings', 1, 'values']],
      usageCounts: [['usageMetadata', 'promptTokenCount']],
      answer: (reply) => googleMock.enqueue(reply),
      upstreamRequests: () => googleMock.requests.length,
    },
    {
      name: 'vertex',
      model: 'vertex/text-embedding-005',
      inputs: twoInputs,
      valid: {
        predictions: [
          { embeddings: { values: first, statistics: { token_count: 1, truncated: false } } },
          { embeddings: { values: second, statistics: { token_count: 3, truncated: false } } },
        ],
        metadata: { billableCharacterCount: 10 },
      },
      vectors: [first, second],
      promptTokens: 4,
      list: ['predictions'],
      vectorPaths: [['predictions', 0, 'embeddings', 'values'], ['predictions', 1, 'embeddings', 'values']],
      usageCounts: [['predictions', 0, 'embeddings', 'statistics', 'token_count'], ['predictions', 1, 'embeddings', 'statistics', 'token_count']],
      answer: (reply) => googleMock.enqueue(reply),
      upstreamRequests: () => googleMock.requests.length,
    },
    {
      // Titan embeds one text per call: one input keeps each request to one scripted reply.
      name: 'bedrock (Titan)',
      model: 'bedrock/amazon.titan-embed-text-v2:0',
      inputs: ['hello'],
      valid: { embedding: first, inputTextTokenCount: 2 },
      headers: { 'x-amzn-bedrock-input-token-count': '2' },
      vectors: [first],
      promptTokens: 2,
      list: ['embedding'],
      vectorPaths: [['embedding']],
      usageCounts: [['inputTextTokenCount']],
      answer: (reply) => bedrockMock.enqueue(reply),
      upstreamRequests: () => bedrockMock.requests.length,
    },
    {
      name: 'bedrock (Cohere)',
      model: 'bedrock/cohere.embed-english-v3',
      inputs: twoInputs,
      valid: { id: 'embed-fuzz', embeddings: [first, second], texts: twoInputs, response_type: 'embeddings_floats' },
      headers: { 'x-amzn-bedrock-input-token-count': '4' },
      vectors: [first, second],
      promptTokens: 4,
      list: ['embeddings'],
      vectorPaths: [['embeddings', 0], ['embeddings', 1]],
      usageCounts: [],
      usageHeader: 'x-amzn-bedrock-input-token-count',
      answer: (reply) => bedrockMock.enqueue(reply),
      upstreamRequests: () => bedrockMock.requests.length,
    },
    {
      name: 'cohere',
      model: 'cohere/embed-english-v3.0',
      inputs: twoInputs,
      valid: {
        id: 'embed-fuzz',
        embeddings: { float: [first, second] },
        texts: twoInputs,
        meta: { api_version: { version: '2' }, billed_units: { input_tokens: 4 } },
        response_type: 'embeddings_by_type',
      },
      vectors: [first, second],
      promptTokens: 4,
      list: ['embeddings', 'float'],
      vectorPaths: [['embeddings', 'float', 0], ['embeddings', 'float', 1]],
      usageCounts: [['meta', 'billed_units', 'input_tokens']],
      answer: (reply) => cohereMock.enqueue(reply),
      upstreamRequests: () => cohereMock.requests.length,
    },
  );
});

/**
 * Makes the client's key a new one: each test starts with nothing held, so a reservation one test leaks fails that
 * test and no other.
 */
async function useFreshApiKey(): Promise<void> {
  const { id, secret } = await singleFlightApiKey(tollgate, 'malformed embedding replies');
  apiKeyId = id;
  clientHeaders = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
}

beforeEach(useFreshApiKey);

afterAll(async () => {
  await tollgate?.dispose();
  await Promise.all([openaiMock?.close(), azureMock?.close(), googleMock?.close(), bedrockMock?.close(), cohereMock?.close()]);
});

function family(name: string): Family {
  const found = families.find((entry) => entry.name === name);
  if (!found) throw new Error(`no family ${name}`);
  return found;
}

// --- Requests and what their answers must look like ---------------------------------------------------------

interface Answer {
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

/** After each request the key holds nothing: its reservation was settled, whatever the reply. */
function settled(label: string): Promise<void> {
  return expectSettled(tollgate, apiKeyId, label);
}

/** Sends an embeddings request the family's mock answers with `reply`, and checks the answer and the settlement. */
async function tryReply(target: Family, reply: RawReply, label: string, encoding: Encoding = 'float'): Promise<Answer> {
  const before = target.upstreamRequests();
  target.answer({ ...(target.headers ? { headers: target.headers } : {}), ...reply });
  const context = `${target.name} ${label} (${encoding})`;
  const response = await fetch(`${tollgate.url}/v1/embeddings`, {
    method: 'POST',
    headers: clientHeaders,
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
  await settled(context);
  return answer;
}

/** The family's valid reply with the member at `path` set to `value` (on a copy). */
function withMember(target: Family, path: Path, value: Json): JsonObject {
  const body = clone(target.valid);
  setAt(body, path, clone(value));
  return body;
}

// --- Mutations ------------------------------------------------------------------------------------------------

/** A reply mutated one way: members changed or deleted (on a copy), or its text cut short. */
function mutateReply(target: Family, random: () => number): { reply: RawReply; description: string } {
  const body = clone(target.valid);
  const roll = random();
  if (roll < 0.1) {
    const text = JSON.stringify(body);
    const position = Math.floor(random() * text.length);
    return { reply: { raw: text.slice(0, position) }, description: `cut short at ${position}` };
  }
  if (roll < 0.25) {
    // A vector's component replaced: the mutation the generic one reaches least often.
    const path = target.vectorPaths[Math.floor(random() * target.vectorPaths.length)]!;
    const component = Math.floor(random() * first.length);
    const numbers = ['1e999', '-1e999', '1e39', '-3.5e38', '"0.5"', 'null', 'true', '[]', '{}', '1e-50', '0'];
    const number = numbers[Math.floor(random() * numbers.length)]!;
    return { reply: { raw: withRawNumber(body, [...path, component], number) }, description: `${[...path, component].join('.')} = ${number}` };
  }
  const descriptions: string[] = [];
  for (let change = 0; change < 1 + Math.floor(random() * 2); change += 1) descriptions.push(mutateMember(body, random));
  return { reply: json(body), description: descriptions.join('; ') };
}

// --- The cases ------------------------------------------------------------------------------------------------

const familyNames = ['openai-compatible', 'azure', 'gemini', 'vertex', 'bedrock (Titan)', 'bedrock (Cohere)', 'cohere'];
const encodings: Encoding[] = ['float', 'base64'];

describe.each(familyNames)('%s', (name) => {
  it('translates the valid reply, as floats and as base64', async () => {
    const target = family(name);
    for (const encoding of encodings) {
      const valid = encoding === 'base64' && target.validBase64 ? target.validBase64 : target.valid;
      const answer = await tryReply(target, json(valid), 'valid reply', encoding);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.vectors).toEqual(target.vectors);
      expect(answer.promptTokens).toBe(target.promptTokens);
    }
    // Unknown members are no reason to refuse a reply.
    const extended = clone(target.valid);
    extended.some_new_member = { kind: 'future', values: [1, 'two'] };
    const answer = await tryReply(target, json(extended), 'unknown members');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.vectors).toEqual(target.vectors);
  });

  it('answers bodies that are not the reply with a 502 in the error shape', async () => {
    const target = family(name);
    const cases: Array<[string, RawReply]> = [
      ...notReplies(JSON.stringify(target.valid)),
      ['text that is not JSON', { raw: 'not json at all', contentType: 'text/plain' }],
      ['an empty object', { raw: '{}' }],
    ];
    for (const [label, raw] of cases) {
      const answer = await tryReply(target, raw, label);
      expect(answer.status, `${label}: ${answer.text}`).toBe(502);
      expect(parseJson(answer.text)?.error?.code, label).toMatch(/^upstream_/);
    }
  });

  it('answers a list of vectors of the wrong shape or length with a 502', async () => {
    const target = family(name);
    const vectors = target.vectorPaths.map((path) => clone(path.reduce<any>((value, key) => value[key], target.valid) as Json));
    const entries = clone(target.list.reduce<any>((value, key) => value[key], target.valid) as Json);
    const lists: Array<[string, Json]> = [
      ['a string', 'embeddings'],
      ['null', null],
      ['a number', 7],
      ['an object', {}],
      ['a list of strings', ['a', 'b']],
      ['a list of nulls', target.inputs.map(() => null)],
      ['nested one level too deep', [entries]],
    ];
    for (const [label, value] of lists) {
      const answer = await tryReply(target, json(withMember(target, target.list, value)), `${target.list.join('.')} as ${label}`);
      expect(answer.status, `${label}: ${answer.text}`).toBe(502);
    }
    // One vector per input, no more and no less: a client matches them to its inputs by position. (Titan's list
    // is its one vector.)
    const listIsVector = target.vectorPaths.length === 1 && target.vectorPaths[0]!.join('.') === target.list.join('.');
    if (Array.isArray(entries) && !listIsVector) {
      const counts: Array<[string, Json]> = [
        ['one vector too few', entries.slice(0, -1)],
        ['one vector too many', [...entries, clone(entries[0]!)]],
        ['no vectors', []],
      ];
      for (const [label, value] of counts) {
        const answer = await tryReply(target, json(withMember(target, target.list, value)), label);
        expect(answer.status, `${label}: ${answer.text}`).toBe(502);
      }
    }
    const wrongVectors: Array<[string, Json]> = [
      ['a string', 'vector'],
      ['null', null],
      ['an object', { values: [1, 2] }],
      ['a list of strings', ['0.5', '0.25']],
      ['a list holding a null', [0.5, null, 0.25]],
      ['a list holding a boolean', [0.5, true]],
      ['a list of lists', [vectors[0]!]],
      ['an empty list', []],
    ];
    for (const path of target.vectorPaths) {
      for (const [label, value] of wrongVectors) {
        for (const encoding of encodings) {
          const answer = await tryReply(target, json(withMember(target, path, value)), `${path.join('.')} as ${label}`, encoding);
          expect(answer.status, `${label}: ${answer.text}`).toBe(502);
        }
      }
    }
  });

  it('answers vector components that no float carries with a 502, never NaN, null or Infinity', async () => {
    const target = family(name);
    const path = [...target.vectorPaths[0]!, 1];
    // 1e999 parses as Infinity; 1e39 is beyond float32, so its base64 would be Infinity.
    for (const number of ['1e999', '-1e999', '1e39', '-1e300']) {
      for (const encoding of encodings) {
        const answer = await tryReply(target, { raw: withRawNumber(target.valid, path, number) }, `${path.join('.')} = ${number}`, encoding);
        expect(answer.status, `${number}: ${answer.text}`).toBe(502);
      }
    }
  });

  it('meters token counts that are negative, huge, fractional, infinite or text as unreported, and settles', async () => {
    const target = family(name);
    const numbers = ['-5', '1e300', '"12"', '12.5', '1e999', '9007199254740993', '[]'];
    for (const path of target.usageCounts) {
      for (const number of numbers) {
        const answer = await tryReply(target, { raw: withRawNumber(target.valid, path, number) }, `${path.join('.')} = ${number}`);
        expect(answer.status === 200 || answer.status === 502, answer.text).toBe(true);
        if (answer.status === 200) expect(answer.vectors).toEqual(target.vectors);
      }
    }
    if (target.usageHeader !== undefined) {
      for (const value of ['-5', '1e300', '12.5', 'twelve', '', '0x10', 'Infinity']) {
        const answer = await tryReply(target, { ...json(target.valid), headers: { [target.usageHeader]: value } }, `${target.usageHeader}: ${value}`);
        expect(answer.status, answer.text).toBe(200);
        expect(answer.vectors).toEqual(target.vectors);
        expect(answer.promptTokens, `${value} is no count`).toBe(0);
      }
    }
  });
});

describe('OpenAI-compatible specifics', () => {
  it.each(['openai-compatible', 'azure'])('%s: answers entries and indexes that do not match the inputs, and bad base64, with a 502', async (name) => {
    const target = family(name);
    const base64 = target.validBase64!;
    const entryCases: Array<[string, Json]> = [
      ['an entry that is a string', 'embedding'],
      ['an entry that is null', null],
      ['an entry that is a list', [0.5, 0.25]],
      ['an index that is text', { object: 'embedding', index: '0', embedding: first }],
      ['an index that is negative', { object: 'embedding', index: -1, embedding: first }],
      ['an index past the inputs', { object: 'embedding', index: 5, embedding: first }],
      ['an index that is fractional', { object: 'embedding', index: 0.5, embedding: first }],
      ['an index given twice', { object: 'embedding', index: 1, embedding: first }],
    ];
    for (const [label, value] of entryCases) {
      const answer = await tryReply(target, json(withMember(target, ['data', 0], value)), label);
      expect(answer.status, `${label}: ${answer.text}`).toBe(502);
    }
    const base64Cases: Array<[string, string]> = [
      ['not base64', '!!not base64!!'],
      ['a length that is no whole float', 'AAAA'],
      ['a NaN', base64Floats([0.5, Number.NaN])],
      ['an Infinity', base64Floats([Number.POSITIVE_INFINITY, 0.5])],
      ['nothing', ''],
    ];
    for (const [label, value] of base64Cases) {
      for (const encoding of encodings) {
        const body = clone(base64);
        setAt(body, ['data', 0, 'embedding'], value);
        const answer = await tryReply(target, json(body), `base64 vector: ${label}`, encoding);
        expect(answer.status, `${label}: ${answer.text}`).toBe(502);
      }
    }
    // Entries out of order are put in order, as before.
    const reversed = clone(target.valid);
    (reversed.data as Json[]).reverse();
    const answer = await tryReply(target, json(reversed), 'entries in reverse order');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.vectors).toEqual(target.vectors);
    // Base64 without its padding is read, and answered padded.
    const unpadded = clone(base64);
    setAt(unpadded, ['data', 0, 'embedding'], base64Floats(first).replace(/=+$/, ''));
    const padded = await tryReply(target, json(unpadded), 'base64 vector without padding', 'base64');
    expect(padded.status, padded.text).toBe(200);
    expect(padded.vectors).toEqual(target.vectors);
    // A base64 reply to a request for floats is decoded, a float reply to a request for base64 encoded.
    const decoded = await tryReply(target, json(base64), 'base64 reply to a float request');
    expect(decoded.vectors).toEqual(target.vectors);
    const encoded = await tryReply(target, json(target.valid), 'float reply to a base64 request', 'base64');
    expect(encoded.vectors).toEqual(target.vectors);
  });
});

describe('a seeded fuzz of embedding replies', () => {
  const rounds = 100;

  it.each(familyNames.map((name, index) => [name, index] as const))('%s: mutations of the valid reply get a sound answer and settle', async (name, index) => {
    const target = family(name);
    const random = seededRandom(2_000 + index);
    const statuses = new Map<number, number>();
    for (let round = 0; round < rounds; round += 1) {
      const encoding: Encoding = random() < 0.5 ? 'float' : 'base64';
      const mutation = mutateReply(target, random);
      const answer = await tryReply(target, mutation.reply, `round ${round}: ${mutation.description}`, encoding);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    // Both kinds of answer were exercised: mutations that stay usable, and refusals.
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
    expect(statuses.get(502) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
  });
});
