/**
 * OpenAI embeddings ↔ Google embeddings: the Gemini API's `:batchEmbedContents` and Vertex AI's `:predict`.
 */
import { errors } from '../../spec/errors.js';
import type { Embedding, EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import type { TokenUsage } from '../../spec/usage.js';

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
  return errors.badGateway(`The upstream sent an unexpected ${what} reply.`, { code: 'upstream_invalid_response', upstream: true });
}

function readVector(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'number')) throw invalidReply(what);
  return value;
}

/**
 * Combines batchEmbedContents replies (`{embeddings:[{values}]}`) in request order. The Gemini API reports no
 * token usage for embeddings, so usage is undefined unless a reply carries usageMetadata.
 */
export function parseBatchEmbedContents(
  bodies: unknown[],
  model: string,
): { result: EmbeddingResponse; usage: TokenUsage | undefined } {
  const vectors: number[][] = [];
  let tokens: number | undefined;
  for (const body of bodies) {
    const embeddings = (body as { embeddings?: unknown } | null)?.embeddings;
    if (!Array.isArray(embeddings)) throw invalidReply('batchEmbedContents');
    for (const embedding of embeddings) vectors.push(readVector((embedding as { values?: unknown } | null)?.values, 'batchEmbedContents'));
    const promptTokens = (body as { usageMetadata?: { promptTokenCount?: unknown } }).usageMetadata?.promptTokenCount;
    if (typeof promptTokens === 'number') tokens = (tokens ?? 0) + promptTokens;
  }
  const usage = tokens === undefined ? undefined : { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0 };
  return { result: listResponse(vectors, model, tokens ?? 0), usage };
}

/** Bodies for Vertex `:predict`; gemini-embedding models take one instance per call, others up to 250. */
export function buildVertexPredictBodies(request: EmbeddingRequest, model: string): Array<Record<string, unknown>> {
  const task = taskType(request);
  const size = /(?:^|\/)gemini-embedding/.test(model) ? 1 : VERTEX_BATCH_LIMIT;
  return chunked(embeddingInputs(request), size).map((texts) => {
    const body: Record<string, unknown> = {
      instances: texts.map((content) => (task ? { content, task_type: task } : { content })),
    };
    if (typeof request.dimensions === 'number') body.parameters = { outputDimensionality: request.dimensions };
    return body;
  });
}

/** Combines Vertex predict replies (`{predictions:[{embeddings:{values, statistics:{token_count}}}]}`). */
export function parseVertexPredict(bodies: unknown[], model: string): { result: EmbeddingResponse; usage: TokenUsage | undefined } {
  const vectors: number[][] = [];
  let tokens = 0;
  for (const body of bodies) {
    const predictions = (body as { predictions?: unknown } | null)?.predictions;
    if (!Array.isArray(predictions)) throw invalidReply('predict');
    for (const prediction of predictions) {
      const embeddings = (prediction as { embeddings?: { values?: unknown; statistics?: { token_count?: unknown } } } | null)?.embeddings;
      vectors.push(readVector(embeddings?.values, 'predict'));
      const count = embeddings?.statistics?.token_count;
      if (typeof count === 'number') tokens += count;
    }
  }
  return { result: listResponse(vectors, model, tokens), usage: { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0 } };
}
