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
import { tryEmbeddingReplyAs, type Encoding } from './malformed-embedding-checks.js';
import { base64Floats, first, malformedEmbeddingFamilies, type EmbeddingFamily } from './malformed-embedding-families.js';
import { mutateReply, withMember } from './malformed-embedding-mutations.js';
import { keyProviders, singleFlightApiKey, withoutRetries } from './malformed-reply-gateway.js';
import { clone, json, notReplies, parseJson, setAt, withRawNumber, type Json } from './malformed-reply-support.js';
import { createKeyPair } from './vertex-support.js';

let openaiMock: OpenAIMock;
let azureMock: AzureMock;
let googleMock: GoogleMock;
let bedrockMock: BedrockMock;
let cohereMock: CohereMock;
let tollgate: LiveGateway;
let apiKeyId: string;
let clientHeaders: Record<string, string>;
const families: EmbeddingFamily[] = [];
/** Sends as the client of the test under way: the key it holds changes before each test. */
const tryReply = tryEmbeddingReplyAs(() => ({ tollgate, apiKeyId, clientHeaders }));

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

  families.push(...malformedEmbeddingFamilies({ openaiMock, azureMock, googleMock, bedrockMock, cohereMock }));
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

function family(name: string): EmbeddingFamily {
  const found = families.find((entry) => entry.name === name);
  if (!found) throw new Error(`no family ${name}`);
  return found;
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
