/**
 * Embeddings on Bedrock through InvokeModel, in the model's native format: Amazon Titan Text (one text per
 * call, so requests fan out) and Cohere Embed (up to 96 texts per call).
 */
import { errors } from '../../spec/errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import type { AwsCredentialSource, ProviderContext, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { isAbsent, isRecord } from '../../spec/json-value.js';
import { isTokenCount, readTokenCounts, type TokenUsage } from '../../spec/usage.js';
import { authenticateBedrockRequest } from './bedrock-auth.js';
import { bedrockHeaders, bedrockModelId, bedrockOperationUrl } from './bedrock-url.js';

/** Cohere Embed accepts at most this many texts in one call. */
export const COHERE_BATCH_SIZE = 96;

/** Cohere needs an input type; OpenAI has none, and stored documents are the common case. */
export const DEFAULT_COHERE_INPUT_TYPE = 'search_document';

export type BedrockEmbeddingFamily = 'titan' | 'cohere';

/** Which native format a model speaks, judged by its id (or the client's model name when the id is an ARN). */
export function embeddingFamily(...names: string[]): BedrockEmbeddingFamily | undefined {
  for (const name of names) {
    const lower = name.toLowerCase();
    if (lower.includes('titan-embed')) return 'titan';
    if (lower.includes('cohere.embed')) return 'cohere';
  }
  return undefined;
}

/** Builds the InvokeModel calls for an embedding request, signed or carrying the API key. */
export async function buildBedrockEmbeddingRequests(request: EmbeddingRequest, context: ProviderContext, hostCredentials?: AwsCredentialSource): Promise<UpstreamRequest[]> {
  const texts = inputTexts(request);
  const modelId = bedrockModelId(context);
  const family = embeddingFamily(modelId, context.model);
  if (family === undefined) {
    throw errors.badRequest(`Bedrock embeddings support Amazon Titan Text and Cohere Embed models, not ${context.model}.`, {
      code: 'unsupported_model',
      param: 'model',
    });
  }
  const bodies = family === 'titan' ? texts.map((text) => titanBody(text, request)) : cohereBodies(texts, request, modelId);
  const url = bedrockOperationUrl(context, 'invoke', modelId);
  return Promise.all(
    bodies.map((body) =>
      authenticateBedrockRequest(
        { method: 'POST', url, headers: bedrockHeaders(context, 'application/json'), body: JSON.stringify(body) },
        context,
        hostCredentials,
      ),
    ),
  );
}

/**
 * Combines the InvokeModel replies, in request order, into one OpenAI embedding list. Each reply must hold one
 * vector per text its call sent; token counts that are no counts (in the body or the header) make the usage
 * unreported rather than shown or settled.
 */
export function parseBedrockEmbeddingResponses(
  responses: UpstreamResponse[],
  request: EmbeddingRequest,
  context: ProviderContext,
): { result: EmbeddingResponse; usage: TokenUsage | undefined } {
  const family = embeddingFamily(bedrockModelId(context), context.model) ?? 'titan';
  const texts = inputTexts(request);
  const vectors: number[][] = [];
  let tokens = 0;
  let trusted = true;
  responses.forEach((response, call) => {
    const body = readJson(response);
    if (family === 'titan') {
      const byType = isRecord(body.embeddingsByType) ? body.embeddingsByType.float : undefined;
      vectors.push(floatVector(isAbsent(body.embedding) ? byType : body.embedding));
      const counts = readTokenCounts(body, ['inputTextTokenCount']);
      if (counts === undefined) trusted = false;
      else tokens += counts.inputTextTokenCount;
    } else {
      const embeddings = body.embeddings;
      const list = Array.isArray(embeddings) ? embeddings : isRecord(embeddings) ? embeddings.float : undefined;
      if (!Array.isArray(list)) throw malformed();
      // Batches are joined in order: a batch one vector short would hand later inputs their neighbours' vectors.
      const sent = Math.min(COHERE_BATCH_SIZE, texts.length - call * COHERE_BATCH_SIZE);
      if (list.length !== sent) throw wrongCount(list.length, sent);
      for (const vector of list) vectors.push(floatVector(vector));
      const count = headerCount(response.headers, 'x-amzn-bedrock-input-token-count');
      if (count === undefined) trusted = false;
      else tokens += count;
    }
  });
  if (vectors.length !== texts.length) throw wrongCount(vectors.length, texts.length);
  const shown = trusted ? tokens : 0;
  return {
    result: {
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      model: context.model,
      usage: { prompt_tokens: shown, total_tokens: shown },
    },
    usage: trusted ? { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0 } : undefined,
  };
}

function inputTexts(request: EmbeddingRequest): string[] {
  const input = request.input;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text): text is string => typeof text === 'string')) {
    throw errors.badRequest('Bedrock embeddings take a string or an array of strings; token arrays are not supported.', {
      code: 'unsupported_input',
      param: 'input',
    });
  }
  return texts;
}

function titanBody(text: string, request: EmbeddingRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { inputText: text };
  if (typeof request.dimensions === 'number') body.dimensions = request.dimensions;
  return body;
}

function cohereBodies(texts: string[], request: EmbeddingRequest, modelId: string): Array<Record<string, unknown>> {
  const inputType = typeof request.input_type === 'string' ? request.input_type : DEFAULT_COHERE_INPUT_TYPE;
  if (typeof request.dimensions === 'number' && /-v3/.test(modelId)) {
    throw errors.badRequest('Cohere Embed v3 has a fixed size; dimensions is not supported.', {
      code: 'unsupported_parameter',
      param: 'dimensions',
    });
  }
  const bodies: Array<Record<string, unknown>> = [];
  for (let start = 0; start < texts.length; start += COHERE_BATCH_SIZE) {
    const body: Record<string, unknown> = { texts: texts.slice(start, start + COHERE_BATCH_SIZE), input_type: inputType };
    if (typeof request.truncate === 'string') body.truncate = request.truncate;
    if (typeof request.dimensions === 'number') body.output_dimension = request.dimensions;
    bodies.push(body);
  }
  return bodies;
}

function readJson(response: UpstreamResponse): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(response.body).toString('utf8'));
    if (isRecord(parsed)) return parsed;
  } catch {
    // Reported below as a malformed reply.
  }
  throw malformed();
}

function floatVector(value: unknown): number[] {
  // A list; its numbers are checked where every family's are (the embedding service).
  if (!Array.isArray(value)) throw malformed();
  return value as number[];
}

/**
 * The token count a header reports: 0 when absent, undefined when it is no count (a sign, a fraction, an exponent,
 * text, beyond any request), which makes the whole report untrusted.
 */
function headerCount(headers: Record<string, string>, name: string): number | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) {
      const parsed = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : undefined;
      return isTokenCount(parsed) ? parsed : undefined;
    }
  }
  return 0;
}

function wrongCount(received: number, expected: number) {
  return errors.invalidReply(`Bedrock returned ${received} embeddings for ${expected} inputs.`);
}

function malformed() {
  return errors.invalidReply('Bedrock returned an embedding reply Tollgate cannot read.');
}
