/**
 * The provider families the malformed embedding reply tests go through: for each, its model, its valid reply, and
 * where in that reply its vectors and token counts are.
 */
import type { AzureMock } from '../mocks/azure-mock.js';
import type { BedrockMock } from '../mocks/bedrock-mock.js';
import type { CohereMock } from '../mocks/cohere-mock.js';
import type { GoogleMock } from '../mocks/google-mock.js';
import type { RawReply } from '../mocks/mock-server.js';
import type { OpenAIMock } from '../mocks/openai-mock.js';
import type { Json, JsonObject } from './malformed-reply-support.js';

/** A path to a member of a reply, as keys and list indexes. */
export type Path = Array<string | number>;

/** One provider family under test: its model, its valid reply, and where in that reply its vectors and counts are. */
export interface EmbeddingFamily {
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

/** The mocks that stand in for each family's upstream. */
export interface EmbeddingUpstreams {
  openaiMock: OpenAIMock;
  azureMock: AzureMock;
  googleMock: GoogleMock;
  bedrockMock: BedrockMock;
  cohereMock: CohereMock;
}

// --- Valid replies --------------------------------------------------------------------------------------------

/** Values float32 holds exactly, so that base64 answers decode to the very numbers sent. */
export const first = [0.5, -0.25, 0.125, 1];
const second = [-1, 0.75, 0, 0.0625];
const twoInputs = ['hello', 'world'];

/** Base64 of little-endian float32s, as OpenAI sends with `encoding_format: base64`. */
export function base64Floats(values: number[]): string {
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

/** An OpenAI-compatible family (OpenAI itself, or Azure's deployments), answered by `mock`. */
function openaiFamily(name: string, model: string, mock: OpenAIMock | AzureMock): EmbeddingFamily {
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

/** Every family under test, each answered by its mock among `upstreams`. */
export function malformedEmbeddingFamilies(upstreams: EmbeddingUpstreams): EmbeddingFamily[] {
  const { openaiMock, azureMock, googleMock, bedrockMock, cohereMock } = upstreams;
  return [
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
  ];
}
