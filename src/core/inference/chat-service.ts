import type { CancelSignal } from '../../spec/cancellation.js';
import { errors, GatewayError, isGatewayError } from '../../spec/errors.js';
import type { Clock } from '../../spec/clock.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../spec/openai.js';
import type { JsonSource } from '../../spec/json-source.js';
import {
  NATIVE_REQUEST_ID_HEADERS,
  type ChatOperation,
  type NativeRequest,
  type ProviderContext,
  type StreamDecoder,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../../spec/provider.js';
import { trustedUsage, type TokenUsage } from '../../spec/usage.js';
import { isRecord } from '../../spec/json-value.js';
import { redactSecrets, secretsOfKey } from '../../spec/redact-secrets.js';
import type { Principal } from '../auth/authenticator.js';
import type { AttemptOutcome, DispatchRequest, Dispatcher, Served } from '../dispatch/dispatcher.js';
import type { UpstreamClient, UpstreamStream } from '../dispatch/upstream-client.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RouteTarget, Router } from '../routing/router.js';
import { settleAfterAnswer, type MeteringTicket, type UsageMeter } from './metering.js';
import { StreamRelay, type RelayEvents, type StreamEnding } from './stream-relay.js';

/** Per-request facts the route hands the service. */
export interface InferenceCall {
  principal: Principal;
  requestId: string;
  /** `x-tollgate-key-id`: pin one provider key. */
  pinnedKeyId?: string;
  /** Aborted when the client disconnects; the upstream request is then aborted too. */
  signal: CancelSignal;
  /** Which client route is asking, for metrics and metering. */
  route: 'chat' | 'messages' | 'responses';
  /** The client's body bytes and validated body, from which adapters may copy the members they forward unchanged. */
  source?: JsonSource;
  /** The client's request in its own format, for targets whose adapter takes it as is (see `NativeRequest`). */
  native?: NativeRequest;
}

/** Who served a request, for response headers and logs. */
export interface ServedBy {
  provider: string;
  model: string;
  keyId: string;
}

export type ChatResult =
  | {
      kind: 'completion';
      completion: ChatCompletion;
      usage: TokenUsage | undefined;
      /** The upstream's bytes when they are the OpenAI completion itself (an adapter's `passthrough`). */
      raw?: Uint8Array;
      /** The upstream's bytes when the attempt that answered took the call's native request: the reply in the client's format. */
      native?: Uint8Array;
      /** With `native`, the reply headers the client gets as the upstream sent them (see `nativeReplyHeaders`). */
      nativeHeaders?: Record<string, string>;
      servedBy: ServedBy;
    }
  | {
      kind: 'stream';
      /** The attempt that answered took the call's native request: the events are `native` ones, in the client's format. */
      native: boolean;
      /** With `native`, the reply headers the client gets as the upstream sent them (see `nativeReplyHeaders`). */
      nativeHeaders?: Record<string, string>;
      /**
       * The stream's events, in batches: the events decoded from one upstream read arrive together, by callback
       * (`read`) or as an async iterator. A batch ends with the stream's error event, if any, and is never empty.
       * Stopping early (`stop`, or leaving the loop) releases the upstream request and settles the stream (see
       * `StreamRelay`).
       */
      events: RelayEvents;
      servedBy: ServedBy;
      usage: () => TokenUsage | undefined;
      /**
       * Records that the stream failed on the way to the client after its events left the core (a chunk the route
       * could not read): its settlement, ledger row and metrics then carry this error instead of a success. Call
       * it before stopping `events`.
       */
      fail: (error: GatewayError) => void;
    };

/** What the inference services (chat, embeddings) are built from. */
export interface InferenceServiceDependencies {
  router: Router;
  dispatcher: Dispatcher;
  client: UpstreamClient;
  meter: UsageMeter;
  metrics: GatewayMetrics;
  clock: Clock;
  /** Told when a settlement made after the answer fails (see settleAfterAnswer). */
  onError: (error: unknown, context: string) => void;
}

/** Chat completions: resolve, reserve, dispatch, translate, settle. */
export class ChatService {
  constructor(private readonly dependencies: InferenceServiceDependencies) {}

  /** The model ids a target's eligible keys (or the pinned one) would send upstream: their deployments of the model, or the model. */
  deployedModels(target: RouteTarget, pinnedKeyId?: string): string[] {
    return this.dependencies.router.deployedModels(target, pinnedKeyId);
  }

  /**
   * Resolves the primary model and the fallbacks into targets (400 for a model that cannot be addressed). A fallback
   * is a model name or `{ model }` (see `fallbacksSchema`).
   */
  targets(body: ChatCompletionRequest, fallbacks: unknown): RouteTarget[] {
    const primary = this.dependencies.router.resolve(body.model);
    if (fallbacks === undefined || fallbacks === null) return [primary];
    const models = Array.isArray(fallbacks) ? fallbacks.map((entry: unknown) => (isRecord(entry) ? entry.model : entry)) : [];
    if (!Array.isArray(fallbacks) || models.some((model) => typeof model !== 'string' || model.trim() === '')) {
      throw errors.badRequest('fallbacks must be an array of "provider/model" strings or { "model": ... } objects', { param: 'fallbacks' });
    }
    return [primary, ...(models as string[]).map((model, index) => {
      try {
        return this.dependencies.router.resolve(model);
      } catch (error) {
        if (isGatewayError(error)) throw errors.badRequest(`fallbacks[${index}]: ${error.message}`, { param: `fallbacks.${index}`, code: error.code });
        throw error;
      }
    })];
  }

  async complete(body: ChatCompletionRequest, targets: RouteTarget[], call: InferenceCall): Promise<ChatResult> {
    const started = this.dependencies.clock();
    const ticket = await this.dependencies.meter.begin({
      principal: call.principal,
      requestId: call.requestId,
      requestType: call.route,
      targets,
      body,
      extraInputTokens: call.native?.extraInputTokens,
    });
    const stream = body.stream === true;
    const dispatchRequest: DispatchRequest = {
      targets,
      requestId: call.requestId,
      signal: call.signal,
      requestType: call.route === 'chat' ? 'chat.completion' : call.route,
      pinnedKeyId: call.pinnedKeyId,
    };
    try {
      if (!stream) {
        const served = await this.dependencies.dispatcher.dispatch(dispatchRequest, async (target, context, release) => {
          try {
            const native = nativeFor(target, context, call);
            const upstreamRequest = await target.adapter.chat.buildRequest(this.#upstreamBody(body, target), context, { stream: false, source: call.source, native });
            const response =
              target.adapter.chat.abandonedReply === undefined
                ? await this.dependencies.client.send(upstreamRequest, { signal: call.signal, timeoutMs: context.provider.network.timeoutMs })
                : await sendDetached(this.dependencies.client, upstreamRequest, target.adapter.chat, context, call.signal);
            if (response.status < 200 || response.status >= 300) return { ok: false, response };
            const parsed = await target.adapter.chat.parseResponse(response, context, native === undefined ? undefined : NATIVE_PARSE);
            // Named members, not a spread: copying an object's members by spread was ~1 % of a request's CPU. Usage
            // is settled only when its counts are counts, whatever an adapter made of the upstream's report.
            return {
              ok: true,
              value: {
                completion: parsed.completion,
                usage: trustedUsage(parsed.usage),
                passthrough: parsed.passthrough,
                native: native !== undefined && parsed.nativeSound === true,
                nativeHeaders: native === undefined ? undefined : nativeReplyHeaders(native, response.headers),
                raw: response.body,
              },
            };
          } finally {
            release();
          }
        });
        const { completion, usage, passthrough, native, nativeHeaders, raw } = served.value;
        this.#settle(ticket, served, usage, started, 200, false);
        return {
          kind: 'completion',
          completion,
          usage,
          raw: passthrough && !native ? raw : undefined,
          native: native ? raw : undefined,
          nativeHeaders: native ? nativeHeaders : undefined,
          servedBy: servedBy(served),
        };
      }
      return await this.#stream(body, dispatchRequest, call, ticket, started);
    } catch (error) {
      const gatewayError = isGatewayError(error) ? error : errors.internal('Internal server error', { cause: error });
      ticket.settle({ status: gatewayError.status, errorCode: gatewayError.code, latencyMs: this.dependencies.clock() - started, stream });
      // The dispatcher names the target that failed last (a fallback, maybe); count provider and model of the same one.
      const failed = targets.find((target) => target.provider.name === gatewayError.provider && target.requested === gatewayError.model) ?? targets[0]!;
      this.dependencies.metrics.observe({
        route: call.route,
        provider: gatewayError.provider ?? failed.provider.name,
        model: failed.model,
        status: gatewayError.status,
        seconds: (this.dependencies.clock() - started) / 1000,
        errorCode: gatewayError.code,
      });
      throw gatewayError;
    }
  }

  async #stream(
    body: ChatCompletionRequest,
    dispatchRequest: DispatchRequest,
    call: InferenceCall,
    ticket: MeteringTicket,
    started: number,
  ): Promise<ChatResult> {
    const served = await this.dependencies.dispatcher.dispatch(dispatchRequest, (target, context, release) => this.#openStream(body, call, target, context, release));
    return this.#relay(served, call.signal, ticket, started);
  }

  /** One attempt at a stream: the upstream request sent, its reply's headers read. */
  async #openStream(body: ChatCompletionRequest, call: InferenceCall, target: RouteTarget, context: ProviderContext, release: () => void): Promise<AttemptOutcome<OpenedStream>> {
    let upstream: UpstreamStream;
    const native = nativeFor(target, context, call);
    try {
      const upstreamRequest = await target.adapter.chat.buildRequest(this.#upstreamBody(body, target), context, { stream: true, source: call.source, native });
      upstream = await this.dependencies.client.open(upstreamRequest, { signal: call.signal, timeoutMs: context.provider.network.timeoutMs });
    } catch (error) {
      release();
      throw error;
    }
    if (upstream.status < 200 || upstream.status >= 300) {
      try {
        return { ok: false, response: { status: upstream.status, headers: upstream.headers, body: await upstream.readAll() } };
      } finally {
        release();
      }
    }
    const decoder = target.adapter.chat.createStreamDecoder(context, { native: native !== undefined });
    const nativeHeaders = native === undefined ? undefined : nativeReplyHeaders(native, upstream.headers);
    return { ok: true, value: { upstream, decoder, release, native: native !== undefined, nativeHeaders } };
  }

  /**
   * The stream's result, its relay and its settlement. Made apart from `#stream`, which holds the client's body and
   * call: the closures made here live as long as the stream, and what they could reach would stay in memory with it
   * (the prompt, often most of a request, has no use once it has gone upstream).
   */
  #relay(served: Served<OpenedStream>, signal: CancelSignal, ticket: MeteringTicket, started: number): ChatResult {
    const { upstream, decoder, release, native, nativeHeaders } = served.value;
    const ending: StreamEnding = { status: 200, errorCode: undefined };
    const events = new StreamRelay({
      upstream,
      decoder,
      signal,
      ending,
      maxPending: this.dependencies.client.maxReplyBytes,
      redact: (message) => redactSecrets(message, secretsOfKey(served.context.key)),
      onClose: () => {
        release();
        if (signal.aborted && ending.status === 200) {
          ending.status = 499;
          ending.errorCode = 'client_closed_request';
        }
        this.#settle(ticket, served, trustedUsage(decoder.usage()), started, ending.status, true, ending.errorCode);
      },
    });
    const fail = (error: GatewayError): void => {
      if (ending.errorCode !== undefined) return;
      ending.status = error.status;
      ending.errorCode = error.code;
    };
    return { kind: 'stream', native, nativeHeaders, events, servedBy: servedBy(served), usage: () => trustedUsage(decoder.usage()), fail };
  }

  /** Settles the request and records its metrics, once its answer is written (see settleAfterAnswer). */
  #settle(
    ticket: MeteringTicket,
    served: Served<unknown>,
    usage: TokenUsage | undefined,
    started: number,
    status: number,
    stream: boolean,
    errorCode?: string,
  ): void {
    const latencyMs = this.dependencies.clock() - started;
    settleAfterAnswer(() => {
      // Objects of one shape whatever the outcome, absent facts undefined: no conditional spreads on the hot path.
      ticket.settle({
        status,
        served: { target: served.target, keyId: served.key.id, pricingStructureId: served.key.customPricingStructureId },
        usage,
        errorCode,
        latencyMs,
        stream,
      });
      this.dependencies.metrics.observe({
        route: stream ? 'chat-stream' : 'chat',
        provider: served.target.provider.name,
        model: served.target.model,
        status,
        seconds: latencyMs / 1000,
        usage,
        errorCode,
      });
    }, this.dependencies.onError);
  }

  /** The body for one target: the model as that target names it (fallbacks may differ). */
  #upstreamBody(body: ChatCompletionRequest, target: RouteTarget): ChatCompletionRequest {
    return body.model === target.model ? body : { ...body, model: target.model };
  }
}

/** A stream an attempt opened: its reply's body still to read, through the decoder made for it. */
interface OpenedStream {
  upstream: UpstreamStream;
  decoder: StreamDecoder;
  release: () => void;
  native: boolean;
  nativeHeaders: Record<string, string> | undefined;
}

/** The parse option of a native attempt's reply, one object for all. */
const NATIVE_PARSE = { native: true } as const;

/**
 * Sends a non-streamed request whose reply the adapter must see even after the client left (an adapter with
 * `abandonedReply`, see `ChatOperation`): the client's leaving answers it at once without tearing the request down.
 */
function sendDetached(client: UpstreamClient, request: UpstreamRequest, chat: ChatOperation, context: ProviderContext, signal: CancelSignal): Promise<UpstreamResponse> {
  return client.sendDetached(request, {
    signal,
    timeoutMs: context.provider.network.timeoutMs,
    abandoned: (response) => chat.abandonedReply!(response, context),
  });
}

/** The call's native request when this attempt's adapter and model take it as is; undefined when the attempt translates. */
function nativeFor(target: RouteTarget, context: ProviderContext, call: InferenceCall): NativeRequest | undefined {
  const chat = target.adapter.chat;
  if (call.native === undefined || chat.nativeFormats?.includes(call.native.format) !== true) return undefined;
  return chat.takesNative === undefined || chat.takesNative(context, call.native.format) ? call.native : undefined;
}

/**
 * The upstream reply headers a native reply passes on: the upstream's request id (Anthropic's `request-id`, which its
 * SDKs show as `_request_id`), so that a client can quote it to the upstream's support.
 */
function nativeReplyHeaders(native: NativeRequest, headers: Record<string, string>): Record<string, string> | undefined {
  const name = NATIVE_REQUEST_ID_HEADERS[native.format];
  if (name === undefined) return undefined;
  const value = headers[name];
  return value === undefined ? undefined : { [name]: value };
}

/** Who served a dispatch, for headers and logs. */
export function servedBy(served: Served<unknown>): ServedBy {
  return { provider: served.target.provider.name, model: served.target.model, keyId: served.key.id };
}

/** True for the chunk that carries only usage (`choices: []`), which clients that did not ask for usage must not see. */
export function isUsageOnlyChunk(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.length === 0 && chunk.usage !== undefined && chunk.usage !== null;
}
