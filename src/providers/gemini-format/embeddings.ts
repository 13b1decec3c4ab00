/**
 * OpenAI embeddings ↔ Google embeddings: the Gemini API's `:batchEmbedContents` and Vertex AI's `:predict`.
 */
import { errors } from '../../spec/errors.js';
import type { Embedding, EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import { isAbsent, isRecord } from '../../spec/json-value.js';
import { readTokenCounts, type TokenUsage } from '../../spec/usage.js';

/** The Gemini API accepts at most 100 requests in one batchEmbedContents call. */
const GEMINI_BATCH_LIMIT = 100;
/** Vertex text-embedding models accept at most 250 instances per predict call. */
const VERTEX_BATCH_LIMIT = 250;

/** The texts to embed; token-id inputs cannot be sent to Google and are refused. */
export function embeddingInputs(request: EmbeddingRequest): string[] {
  const input = request.input;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0) throw errors.badRequest('input must not be empty.', { param: 'input' });
  if (!texts.every((entry): entry is string => typeof entry === 'string')) {
    throw errors.badRequest('This provider embeds text only; token-id inputs are not supported.', { param: 'input' });
  }
  return texts;
}

function chunked<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** The client's task type (non-standard `task_type`/`taskType` field); Google's default applies otherwise. */
function taskType(request: EmbeddingRequest): string | undefined {
  const value = request.task_type ?? request.taskType;
  return typeof value === 'string' ? value : undefined;
}

/** Bodies for `models/<model>:batchEmbedContents`, one per 100 inputs. */
export function buildBatchEmbedContentsBodies(request: EmbeddingRequest, model: string): Array<Record<string, unknown>> {
  const task = taskType(request);
  return chunked(embeddingInputs(request), GEMINI_BATCH_LIMIT).map((texts) => ({
    requests: texts.map((text) => {
      const entry: Record<string, unknown> = { model: `models/${model}`, content: { parts: [{ text }] } };
      if (task) entry.taskType = task;
      if (typeof request.dimensions === 'number') entry.outputDimensionality = request.dimensions;
      return entry;
    }),
  }));
}

function listResponse(vectors: number[][], model: string, promptTokens: number): EmbeddingResponse {
  const data: Embedding[] = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
  return { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}

function invalidReply(what: string): Error {
  return errors.invalidReply(`The upstream sent an unexpected ${what} reply.`);
}

function readVector(value: unknown, what: string): number[] {
  // A list; its numbers are checked where every family's are (the embedding service).
  if (!Array.isArray(value)) throw invalidReply(what);
  return value;
}

/**
 * Checks that a reply holds one vector per text its request sent: replies are joined in order, so one vector
 * too many or too few would give every later input another's vector.
 */
function expectCount(received: number, sizes: readonly number[] | undefined, batch: number, what: string): void {
  const expected = sizes?.[batch];
  if (expected !== undefined && received !== expected) {
    throw errors.invalidReply(`The upstream sent ${received} embeddings in a ${what} reply for ${expected} texts.`);
  }
}

/**
 * Combines batchEmbedContents replies (`{embeddings:[{values}]}`) in request order. The Gemini API reports no
 * token usage for embeddings, so usage is undefined unless a reply carries usageMetadata (and undefined, too, when
 * a count there is no count). With the `request`, each reply must hold one vector per text its body sent.
 */
export function parseBatchEmbedContents(
  bodies: unknown[],
  model: string,
  request?: EmbeddingRequest,
): { result: EmbeddingResponse; usage: TokenUsage | undefined } {
  const sizes = request === undefined ? undefined : chunked(embeddingInputs(request), GEMINI_BATCH_LIMIT).map((texts) => texts.length);
  const vectors: number[][] = [];
  let tokens: number | undefined;
  let trusted = true;
  bodies.forEach((body, batch) => {
    const embeddings = isRecord(body) ? body.embeddings : undefined;
    if (!isRecord(body) || !Array.isArray(embeddings)) throw invalidReply('batchEmbedContents');
    expectCount(embeddings.length, sizes, batch, 'batchEmbedContents');
    for (const embedding of embeddings) vectors.push(readVector(isRecord(embedding) ? embedding.values : undefined, 'batchEmbedContents'));
    const usageMetadata = isRecord(body.usageMetadata) ? body.usageMetadata : undefined;
    const counts = readTokenCounts(usageMetadata, ['promptTokenCount']);
    if (counts === undefined) trusted = false;
    else if (!isAbsent(usageMetadata?.promptTokenCount)) tokens = (tokens ?? 0) + counts.promptTokenCount;
  });
  const usage = tokens === undefined || !trusted ? undefined : { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0 };
  return { result: listResponse(vectors, model, usage?.inputTokens ?? 0), usage };
}

/** How many texts one Vertex `:predict` call takes: gemini-embedding models one, others up to 250. */
function vertexBatchSize(model: string): number {
  return /(?:^|\/)gemini-embedding/.test(model) ? 1 : VERTEX_BATCH_LIMIT;
}

/** Bodies for Vertex `:predict`; gemini-embedding models take one instance per call, others up to 250. */
export function buildVertexPredictBodies(request: EmbeddingRequest, model: string): Array<Record<string, unknown>> {
  const task = taskType(request);
  return chunked(embeddingInputs(request), vertexBatchSize(model)).map((texts) => {
    const body: Record<string, unknown> = {
      instances: texts.map((content) => (task ? { content, task_type: task } : { content })),
    };
    if (typeof request.dimensions === 'number') body.parameters = { outputDimensionality: request.dimensions };
    return body;
  });
}

/**
 * Combines Vertex predict replies (`{predictions:[{embeddings:{values, statistics:{token_count}}}]}`). Usage is
 * undefined when a token count there is no count. With the `request` (and the deployed model its bodies were built
 * for, when it is not `model`), each reply must hold one prediction per text its body sent.
 */
export function parseVertexPredict(
  bodies: unknown[],
  model: string,
  request?: EmbeddingRequest,
  deployedModel: string = model,
): { result: EmbeddingResponse; usage: TokenUsage | undefined } {
  const sizes = request === undefined ? undefined : chunked(embeddingInputs(request), vertexBatchSize(deployedModel)).map((texts) => texts.length);
  const vectors: number[][] = [];
  let tokens = 0;
  let trusted = true;
  bodies.forEach((body, batch) => {
    const predictions = isRecord(body) ? body.predictions : undefined;
    if (!Array.isArray(predictions)) throw invalidReply('predict');
    expectCount(predictions.length, sizes, batch, 'predict');
    for (const prediction of predictions) {
      const embeddings = isRecord(prediction) && isRecord(prediction.embeddings) ? prediction.embeddings : undefined;
      vectors.push(readVector(embeddings?.values, 'predict'));
      const counts = readTokenCounts(embeddings?.statistics, ['token_count']);
      if (counts === undefined) trusted = false;
      else tokens += counts.token_count;
    }
  });
  const usage = trusted ? { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0 } : undefined;
  return { result: listResponse(vectors, model, usage?.inputTokens ?? 0), usage };
}
