/**
 * Embeddings for OpenAI-compatible servers: the request is forwarded (model replaced), the reply read into
 * the OpenAI list. Vectors are kept as received, floats or base64; the core converts to what the client asked.
 */
import { errors } from '../../spec/errors.js';
import type { Embedding, EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import type { EmbeddingOperation, ProviderContext, UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { isAbsent, isRecord } from '../../spec/json-value.js';
import { readTokenCounts, type TokenUsage } from '../../spec/usage.js';
import type { CompatibleDescription, EmbeddingRequestRules } from './description.js';
import { buildHeaders, joinUrl, resolveBaseUrl, resolveUpstreamModel, withFieldRules } from './request.js';
import { bodyText, parseJsonObject } from './response.js';
import { arrayElementSpans, memberValueStart, memberValueText, objectMemberSpans, scanMemberSpans } from '../../spec/json-source.js';

/** The standard embeddings path. */
export const EMBEDDINGS_PATH = '/v1/embeddings';

function isTokenInput(input: unknown): boolean {
  return Array.isArray(input) && input.length > 0 && (typeof input[0] === 'number' || Array.isArray(input[0]));
}

/**
 * The upstream embeddings body: the client's request with the model replaced and `encoding_format` left as
 * the client sent it (or absent). Token-id inputs are refused with a 400 when the server only takes text.
 */
export function buildEmbeddingBody(
  request: EmbeddingRequest,
  options: { model: string; rules?: EmbeddingRequestRules },
): Record<string, unknown> {
  const rules = options.rules ?? {};
  if (rules.acceptTokenInputs !== true && isTokenInput(request.input)) {
    throw errors.badRequest('This provider embeds text only; token-id inputs are not supported.', {
      param: 'input',
      code: 'unsupported_value',
    });
  }
  return withFieldRules({ ...request, model: options.model }, rules.dropFields, rules.renameFields);
}

/** Builds the upstream embeddings request for a compatible server. */
export function buildEmbeddingRequest(
  description: CompatibleDescription,
  request: EmbeddingRequest,
  context: ProviderContext,
): UpstreamRequest {
  const body = buildEmbeddingBody(request, {
    model: resolveUpstreamModel(description, context),
    rules: description.embeddingRules,
  });
  return {
    method: 'POST',
    url: joinUrl(resolveBaseUrl(description, context), description.embeddingsPath ?? EMBEDDINGS_PATH),
    headers: buildHeaders({ apiKey: context.key.value, stream: false, extraHeaders: context.provider.network.extraHeaders }),
    body: JSON.stringify(body),
  };
}

function invalidReply(problem: string): Error {
  return errors.invalidReply(`The upstream returned an embeddings reply Tollgate cannot read: ${problem}.`);
}

/**
 * Reads an OpenAI embeddings list; vectors stay as received (number[] or base64 text), ordered by index. An entry
 * that is no object, holds no vector, or whose index is not a position in the list (or repeats one) is a 502: the
 * client could not tell which input a vector belongs to. Usage whose counts are not counts is reported as none.
 */
export function parseEmbeddingResponse(
  body: Uint8Array | string,
  request: EmbeddingRequest,
): { result: EmbeddingResponse; usage: TokenUsage | undefined; vectorTexts?: (string | undefined)[] } {
  const text = bodyText(body);
  const record = parseJsonObject(text, 'embeddings reply');
  if (!Array.isArray(record.data)) {
    throw errors.invalidReply('The upstream embeddings reply has no data list.');
  }
  const entries: unknown[] = record.data;
  const seen = new Set<number>();
  const data: Embedding[] = entries.map((item, position) => {
    if (!isRecord(item)) throw invalidReply('an entry of its data list is not an object');
    const vector = item.embedding;
    // Floats or base64; what they hold is checked where every family's vectors are (the embedding service).
    if (typeof vector !== 'string' && !Array.isArray(vector)) {
      throw errors.invalidReply('The upstream embeddings reply has an entry without a vector.');
    }
    const index = isAbsent(item.index) ? position : item.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= entries.length || seen.has(index)) {
      throw invalidReply(`entry ${position} has the index ${JSON.stringify(index)}`);
    }
    seen.add(index);
    return { object: 'embedding', index, embedding: vector };
  });
  // Positions in index order, so that each vector's text stays with it.
  const order = data.map((_, position) => position).sort((left, right) => data[left]!.index - data[right]!.index);
  // Only float vectors that go out as floats are copied from the text: no scan for a client that asked for base64.
  const texts = request.encoding_format !== 'base64' && data.some((item) => Array.isArray(item.embedding)) ? floatVectorTexts(text, entries.length) : undefined;
  const upstreamUsage = isRecord(record.usage) ? record.usage : undefined;
  // Counts that are no counts (negative, fractional, text, beyond any request) make the report untrusted: none.
  const counts = readTokenCounts(upstreamUsage, ['prompt_tokens', 'total_tokens']);
  const promptTokens = counts !== undefined && !isAbsent(upstreamUsage?.prompt_tokens) ? counts.prompt_tokens : undefined;
  const totalTokens = counts !== undefined && !isAbsent(upstreamUsage?.total_tokens) ? counts.total_tokens : promptTokens;
  return {
    ...(texts === undefined ? {} : { vectorTexts: order.map((position) => texts[position]) }),
    result: {
      object: 'list',
      data: order.map((position) => data[position]!),
      model: typeof record.model === 'string' ? record.model : request.model,
      usage: { prompt_tokens: promptTokens ?? 0, total_tokens: totalTokens ?? 0 },
    },
    usage: promptTokens === undefined ? undefined : { inputTokens: promptTokens, outputTokens: 0, cachedInputTokens: 0 },
  };
}

/**
 * The text of each float vector in a reply's `data` list, by position (undefined for a vector that is no list), so
 * that a vector sent on as floats is copied instead of serialised again: writing 1,536 numbers back as text cost
 * more than parsing them. Undefined when the list cannot be scanned as `count` entries. The text was parsed whole
 * before, so each vector's text parses to the vector read from it.
 */
function floatVectorTexts(text: string, count: number): (string | undefined)[] | undefined {
  const data = scanMemberSpans(text)?.get('data');
  if (data === undefined) return undefined;
  const elements = arrayElementSpans(text, memberValueStart(text, data));
  if (elements === null || elements.length !== count) return undefined;
  return elements.map((element) => {
    const embedding = objectMemberSpans(text, element.start)?.get('embedding');
    if (embedding === undefined) return undefined;
    const vector = memberValueText(text, embedding);
    return vector.charCodeAt(0) === 0x5b ? vector : undefined;
  });
}

/** The embeddings operation of a compatible server: one upstream request per client request. */
export function createEmbeddingOperation(description: CompatibleDescription): EmbeddingOperation {
  return {
    async buildRequests(request, context) {
      return [buildEmbeddingRequest(description, request, context)];
    },
    parseResponses(responses, request) {
      const response: UpstreamResponse | undefined = responses[0];
      if (response === undefined) throw errors.internal('No embeddings reply to parse.');
      return parseEmbeddingResponse(response.body, request);
    },
  };
}
