import { errors, isGatewayError } from '../../spec/errors.js';
import type { Embedding, EmbeddingRequest, EmbeddingResponse } from '../../spec/openai.js';
import type { UpstreamResponse } from '../../spec/provider.js';
import { isTokenCount, trustedUsage, type TokenUsage } from '../../spec/usage.js';
import type { RouteTarget } from '../routing/router.js';
import type { InferenceCall, InferenceServiceDependencies, ServedBy } from './chat-service.js';
import { settleAfterAnswer } from './metering.js';
import { encodeEmbedding, float32sOf } from './embedding-encoding.js';

/** Embeddings: resolve, reserve, dispatch (fanning out where the provider needs it), encode, settle. */
export class EmbeddingService {
  constructor(private readonly dependencies: InferenceServiceDependencies) {}

  /**
   * The list the client gets, who served it, and (see `EmbeddingOperation.parseResponses`) the upstream's texts of the
   * vectors it holds as the adapter read them, for `embeddingListText`.
   */
  async embed(
    body: EmbeddingRequest,
    call: Omit<InferenceCall, 'route'>,
  ): Promise<{ result: EmbeddingResponse; servedBy: ServedBy; vectorTexts?: readonly (string | undefined)[] }> {
    const started = this.dependencies.clock();
    const target = this.dependencies.router.resolve(body.model);
    if (!target.adapter.embeddings) {
      throw errors.badRequest(`Provider "${target.provider.name}" does not offer embeddings`, {
        param: 'model',
        code: 'embeddings_not_supported',
        provider: target.provider.name,
        model: body.model,
        requestType: 'embedding',
      });
    }
    const operation = target.adapter.embeddings;
    const ticket = await this.dependencies.meter.begin({
      principal: call.principal,
      requestId: call.requestId,
      requestType: 'embeddings',
      targets: [target],
      body,
    });
    try {
      const served = await this.dependencies.dispatcher.dispatch(
        {
          targets: [target],
          requestId: call.requestId,
          signal: call.signal,
          requestType: 'embedding',
          ...(call.pinnedKeyId !== undefined ? { pinnedKeyId: call.pinnedKeyId } : {}),
        },
        async (attemptTarget, context, release) => {
          try {
            const upstreamBody = body.model === attemptTarget.model ? body : { ...body, model: attemptTarget.model };
            const requests = await operation.buildRequests(upstreamBody, context);
            const responses: UpstreamResponse[] = await Promise.all(
              requests.map((request) => this.dependencies.client.send(request, { signal: call.signal, timeoutMs: context.provider.network.timeoutMs })),
            );
            const failed = responses.find((response) => response.status < 200 || response.status >= 300);
            if (failed) return { ok: false, response: failed };
            // Checked within the attempt: a reply Tollgate cannot serve fails it as a translator's refusal would.
            return { ok: true, value: servable(operation.parseResponses(responses, upstreamBody, context), body) };
          } finally {
            release();
          }
        },
      );
      const { result, usage, vectorTexts } = served.value;
      const latencyMs = this.dependencies.clock() - started;
      settleAfterAnswer(() => {
        ticket.settle({
          status: 200,
          served: { target: served.target, keyId: served.key.id, pricingStructureId: served.key.customPricingStructureId },
          usage,
          latencyMs,
          stream: false,
        });
        this.dependencies.metrics.observe({
          route: 'embeddings',
          provider: served.target.provider.name,
          model: served.target.model,
          status: 200,
          seconds: latencyMs / 1000,
          usage,
        });
      }, this.dependencies.onError);
      return {
        result,
        servedBy: { provider: served.target.provider.name, model: served.target.model, keyId: served.key.id },
        ...(vectorTexts === undefined ? {} : { vectorTexts }),
      };
    } catch (error) {
      const gatewayError = isGatewayError(error) ? error : errors.internal('Internal server error', { cause: error });
      ticket.settle({ status: gatewayError.status, errorCode: gatewayError.code, latencyMs: this.dependencies.clock() - started, stream: false });
      this.dependencies.metrics.observe({
        route: 'embeddings',
        provider: target.provider.name,
        model: target.model,
        status: gatewayError.status,
        seconds: (this.dependencies.clock() - started) / 1000,
        errorCode: gatewayError.code,
      });
      throw gatewayError;
    }
  }

  /** The target an embeddings body resolves to (exposed for the route's validation). */
  target(model: string): RouteTarget {
    return this.dependencies.router.resolve(model);
  }
}

/** The largest magnitude a float32 holds: a larger component would be Infinity in a base64 vector. */
const FLOAT32_MAX = 3.4028234663852886e38;

function invalidReply(problem: string): Error {
  return errors.invalidReply(`The upstream sent an embeddings reply Tollgate cannot read: ${problem}.`);
}

/** How many vectors a request asks for: one per text or per list of token ids. */
function inputCount(input: EmbeddingRequest['input']): number {
  if (typeof input === 'string') return 1;
  // A list of token ids is one input (the route admits no empty list).
  return typeof input[0] === 'number' ? 1 : input.length;
}

/** True for a vector component that float32 can carry: the client may ask for it as base64 float32. */
function isVectorComponent(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= FLOAT32_MAX;
}

/** Base64 text (unpadded accepted). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * An embedding as a translator left it: floats, or base64 of little-endian float32s as OpenAI-compatible servers send
 * when asked for base64. A base64 vector keeps its text and its values as float32s, so that a base64 answer to a
 * base64 request (what OpenAI's SDKs ask for by default) is checked without being decoded into numbers and encoded
 * again.
 */
type ReceivedVector = { floats: number[]; values?: undefined } | { floats?: undefined; values: Float32Array; bytes: Buffer; text: string };

/**
 * The vector of an embedding, or undefined when it is neither floats nor base64, is empty, or holds a value that is no
 * finite float32: a client's SDK would decode such a vector to NaN or Infinity.
 */
function receivedVector(embedding: unknown): ReceivedVector | undefined {
  if (Array.isArray(embedding)) return embedding.length > 0 && embedding.every(isVectorComponent) ? { floats: embedding } : undefined;
  if (typeof embedding !== 'string') return undefined;
  // Decoding skips what is not base64, so the text is checked: at once when it is what encoding its bytes gives back
  // (as servers write it), else against the pattern (unpadded, or with pad bits set).
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.toString('base64') !== embedding && !BASE64.test(embedding)) return undefined;
  if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  const values = float32sOf(bytes);
  // A float32 that is finite is within float32's range.
  for (let index = 0; index < values.length; index += 1) if (!Number.isFinite(values[index]!)) return undefined;
  return { values, bytes, text: embedding };
}

/** A received vector as the client asked for it: base64 (padded, as strict decoders require) or floats. */
function asRequested(vector: ReceivedVector, wantsBase64: boolean): number[] | string {
  if (vector.values === undefined) return wantsBase64 ? encodeEmbedding(vector.floats) : vector.floats;
  if (!wantsBase64) return Array.from(vector.values);
  return vector.text.length % 4 === 0 ? vector.text : vector.bytes.toString('base64');
}

/**
 * A translated reply as the client gets it, or a 502 when it is none: one vector of finite float32s per input, in
 * input order, encoded as the client asked; usage settled and shown only when its counts are counts (an untrusted
 * report is charged the reservation, and the client sees zeros rather than numbers that cannot be right).
 */
function servable(
  translated: { result: EmbeddingResponse; usage: TokenUsage | undefined; vectorTexts?: readonly (string | undefined)[] },
  request: EmbeddingRequest,
): { result: EmbeddingResponse; usage: TokenUsage | undefined; vectorTexts?: (string | undefined)[] } {
  const { result } = translated;
  const expected = inputCount(request.input);
  if (!Array.isArray(result.data) || result.data.length !== expected) {
    throw invalidReply(`${Array.isArray(result.data) ? result.data.length : 'no'} embeddings for ${expected} inputs`);
  }
  const wantsBase64 = request.encoding_format === 'base64';
  let dimensions: number | undefined;
  const data = result.data.map((item, position): Embedding => {
    // A client matches vectors to its inputs by index: the list must hold each index once, in order.
    if (item.index !== position) throw invalidReply('embeddings whose indexes do not match the inputs');
    const vector = receivedVector(item.embedding);
    if (vector === undefined) throw invalidReply(`embedding ${position} is not a list of finite float32 numbers`);
    // One model embeds every input in one space: vectors of different sizes mean some are not what was asked for.
    const size = vector.values === undefined ? vector.floats.length : vector.values.length;
    dimensions ??= size;
    if (size !== dimensions) throw invalidReply(`embedding ${position} has ${size} dimensions, embedding 0 has ${dimensions}`);
    return { object: 'embedding', index: position, embedding: asRequested(vector, wantsBase64) };
  });
  // A vector's upstream text still writes it when the very list the adapter read goes out.
  const texts = translated.vectorTexts;
  const vectorTexts = texts === undefined ? undefined : data.map((item, position) => (item.embedding === result.data[position]!.embedding ? texts[position] : undefined));
  // Settled only when its counts are counts: amounts the limit counters refuse would leave the reservation held.
  const usage = trustedUsage(translated.usage);
  const shown = isTokenCount(result.usage?.prompt_tokens) && isTokenCount(result.usage?.total_tokens);
  return {
    result: {
      object: 'list',
      data,
      model: typeof result.model === 'string' ? result.model : request.model,
      usage: shown ? { prompt_tokens: result.usage.prompt_tokens, total_tokens: result.usage.total_tokens } : { prompt_tokens: 0, total_tokens: 0 },
    },
    usage,
    ...(vectorTexts === undefined ? {} : { vectorTexts }),
  };
}
