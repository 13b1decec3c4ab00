/**
 * OpenAI embeddings ↔ Cohere v2 `/v2/embed`. Cohere takes at most 96 texts per call, so larger inputs fan out
 * into several calls whose results are stitched back together in input order.
 */
import { errors, type GatewayError } from '../../spec/errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import { isAbsent, isRecord } from '../../spec/json-value.js';
import { readTokenCounts, type TokenUsage } from '../../spec/usage.js';
import type { CohereEmbedRequest, CohereEmbedResponse } from './wire-types.js';

/** Cohere's limit on `texts` per embed call. */
export const COHERE_EMBED_BATCH_SIZE = 96;

/** OpenAI has no input type; stored documents are the common case for an embeddings endpoint (reference §7). */
export const DEFAULT_INPUT_TYPE = 'search_document';

/**
 * Splits an OpenAI embeddings request into Cohere embed bodies of at most 96 texts. A non-standard `input_type`
 * (and `truncate`) on the request is forwarded, so clients can ask for `search_query` embeddings.
 * Token-array input cannot be forwarded and is refused with a 400.
 */
export function toCohereEmbedBodies(request: EmbeddingRequest, model: string): CohereEmbedRequest[] {
  const texts = readTexts(request.input);
  const inputType = typeof request.input_type === 'string' && request.input_type !== '' ? request.input_type : DEFAULT_INPUT_TYPE;
  const bodies: CohereEmbedRequest[] = [];
  for (let start = 0; start < texts.length; start += COHERE_EMBED_BATCH_SIZE) {
    const body: CohereEmbedRequest = {
      model,
      texts: texts.slice(start, start + COHERE_EMBED_BATCH_SIZE),
      input_type: inputType,
      embedding_types: ['float'],
    };
    if (typeof request.truncate === 'string') body.truncate = request.truncate;
    if (typeof request.dimensions === 'number') body.output_dimension = request.dimensions;
    bodies.push(body);
  }
  return bodies;
}

/**
 * Joins the replies (in request order) into one OpenAI embeddings response. Usage is the sum of each reply's
 * `meta.billed_units.input_tokens`, or undefined when no reply reported any, or when a count there is no count.
 * A reply that is no object, does not hold one vector per text it was sent, or holds a vector that is not finite
 * numbers is a 502.
 */
export function fromCohereEmbedResponses(
  replies: CohereEmbedResponse[],
  bodies: CohereEmbedRequest[],
  model: string,
): { result: EmbeddingResponse; usage: TokenUsage | undefined } {
  const data: EmbeddingResponse['data'] = [];
  let tokens = 0;
  let reported = false;
  let trusted = true;
  replies.forEach((reply: unknown, batch) => {
    const embeddings = isRecord(reply) && isRecord(reply.embeddings) ? reply.embeddings : undefined;
    const vectors = embeddings?.float;
    const expected = bodies[batch]?.texts.length ?? 0;
    if (!Array.isArray(vectors) || vectors.length !== expected) {
      throw invalidReply(`Cohere returned ${Array.isArray(vectors) ? vectors.length : 'no'} float embeddings for ${expected} texts.`);
    }
    for (const vector of vectors) {
      // Its numbers are checked where every family's are (the embedding service).
      if (!Array.isArray(vector)) {
        throw invalidReply('Cohere returned an embedding that is not a list of numbers.');
      }
      data.push({ object: 'embedding', index: data.length, embedding: vector });
    }
    const meta = isRecord(reply) && isRecord(reply.meta) ? reply.meta : undefined;
    const billedUnits = isRecord(meta?.billed_units) ? meta.billed_units : undefined;
    const counts = readTokenCounts(billedUnits, ['input_tokens']);
    if (counts === undefined) trusted = false;
    else if (!isAbsent(billedUnits?.input_tokens)) {
      tokens += counts.input_tokens;
      reported = true;
    }
  });
  const usage = reported && trusted ? { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0 } : undefined;
  const shown = usage?.inputTokens ?? 0;
  return {
    result: { object: 'list', data, model, usage: { prompt_tokens: shown, total_tokens: shown } },
    usage,
  };
}

function invalidReply(message: string): GatewayError {
  return errors.invalidReply(message);
}

function readTexts(input: EmbeddingRequest['input']): string[] {
  const list: unknown[] = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw errors.badRequest('`input` must not be empty.', { param: 'input' });
  return list.map((item) => {
    if (typeof item !== 'string') {
      throw errors.badRequest('Cohere embeds text only; token arrays cannot be forwarded.', {
        param: 'input',
        code: 'unsupported_input',
      });
    }
    return item;
  });
}
