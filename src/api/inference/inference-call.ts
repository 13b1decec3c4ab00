import type { FastifyRequest } from 'fastify';
import { Cancellation } from '../../spec/cancellation.js';
import { errors, isGatewayError, type GatewayError } from '../../spec/errors.js';
import type { JsonSource } from '../../spec/json-source.js';
import type { NativeRequest } from '../../spec/provider.js';
import type { TokenUsage } from '../../spec/usage.js';
import type { InferenceCall, ServedBy } from '../../core/inference/chat-service.js';
import '../route-access.js';

/** What the per-request log line tells about an inference request: who served it and what it consumed. */
export interface InferenceLogFacts {
  provider?: string;
  model?: string;
  keyId?: string;
  stream?: boolean;
  usage?: TokenUsage;
  /** Why the request failed, also when a stream failed after its 200 was sent. */
  errorCode?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Filled in by the inference routes (and the error hook); read by the server's log line. Null elsewhere. */
    inference: InferenceLogFacts | null;
  }
  interface FastifyInstance {
    /** The inference routes still working on a request (the app's; absent on an app built without it). */
    inferenceRoutes?: RoutesInFlight;
  }
}

/**
 * Counts the inference routes still working on a request, from `inferenceCall` to `markHandled`, so that a stop can
 * wait for them: a route whose connection was closed under it still ends its relay and hands its usage to the
 * meter, and the meter is drained only after that.
 */
export class RoutesInFlight {
  #count = 0;
  #waiting: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count += 1;
  }

  leave(): void {
    this.#count -= 1;
    if (this.#count === 0) for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** Resolves once no route is working on a request (at once when none is). */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

/** The facts object of a request, with every field present from the start (one object shape on the hot path). */
interface TrackedFacts extends InferenceLogFacts {
  /** True from `inferenceCall` until `markHandled`. */
  inRoute: boolean;
  /** Who waits for the route to be done; created only when someone does (a client that left early). */
  onHandled: Array<() => void> | undefined;
  /** Aborted when the client leaves before its answer is complete; set by `inferenceCall`. */
  cancellation: Cancellation | undefined;
}

function factsOf(request: FastifyRequest): TrackedFacts {
  let facts = request.inference as TrackedFacts | null;
  if (!facts) {
    facts = {
      provider: undefined,
      model: undefined,
      keyId: undefined,
      stream: undefined,
      usage: undefined,
      errorCode: undefined,
      inRoute: false,
      onHandled: undefined,
      cancellation: undefined,
    };
    request.inference = facts;
  }
  return facts;
}

/** Tells the log line that the route is done with the request (call it on every exit path). */
export function markHandled(request: FastifyRequest): void {
  const facts = request.inference as TrackedFacts | null;
  if (!facts) return;
  if (facts.inRoute) request.server.inferenceRoutes?.leave();
  facts.inRoute = false;
  const waiting = facts.onHandled;
  facts.onHandled = undefined;
  if (waiting) for (const resolve of waiting) resolve();
}

/**
 * Tells an inference request that its client left before the answer was complete: its upstream work is cancelled.
 * Resolves once the route is done with the request (at once when it is), so that the client is logged with the facts
 * the route still gathers. The server's one 'close' listener per request calls this (server/request-log.ts), so an
 * inference request needs no listener of its own; nothing is allocated for the requests nobody waits on.
 */
export function clientLeft(facts: InferenceLogFacts): Promise<void> {
  const tracked = facts as TrackedFacts;
  tracked.cancellation?.abort();
  if (!tracked.inRoute) return Promise.resolve();
  return new Promise<void>((resolve) => {
    (tracked.onHandled ??= []).push(resolve);
  });
}

/** Notes who served a request (and, when already known, its usage) for the log line. */
export function noteServed(request: FastifyRequest, servedBy: ServedBy, details: { stream: boolean; usage?: TokenUsage | undefined }): void {
  const facts = factsOf(request);
  facts.provider = servedBy.provider;
  facts.model = servedBy.model;
  facts.keyId = servedBy.keyId;
  facts.stream = details.stream;
  if (details.usage) facts.usage = details.usage;
}

/** Notes the provider and code of the error a route ends with. */
export function noteFailure(request: FastifyRequest, error: unknown): void {
  if (!isGatewayError(error)) return;
  const facts = factsOf(request);
  if (error.provider && !facts.provider) facts.provider = error.provider;
  if (error.model && !facts.model) facts.model = error.model;
  facts.errorCode = error.code;
}

/** Notes what a stream consumed and how it ended, once it ended. */
export function noteStreamEnd(request: FastifyRequest, usage: TokenUsage | undefined, errorCode: string | undefined): void {
  const facts = factsOf(request);
  if (usage) facts.usage = usage;
  if (errorCode) facts.errorCode = errorCode;
}

/**
 * The client's body bytes with its validated body, when the route forwards that body (the chat route): adapters then
 * copy the members they leave unchanged from the bytes. The other routes hand the core a translated body that shares
 * almost nothing with the client's text, so scanning it would be wasted work; their native requests carry
 * the source themselves (`jsonSourceOf`), for the adapters that send the client's body as written.
 */
function sourceOf(request: FastifyRequest, route: InferenceCall['route']): JsonSource | undefined {
  return route === 'chat' ? jsonSourceOf(request) : undefined;
}

/** The client's JSON body bytes with its validated values, or undefined for a request without a JSON object body. */
export function jsonSourceOf(request: FastifyRequest): JsonSource | undefined {
  if (request.jsonBytes === null) return undefined;
  const values = request.body;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return undefined;
  return { bytes: request.jsonBytes, values: values as Record<string, unknown> };
}

/**
 * Lets go of the client's body (its bytes and its parsed values) once the stream it asked for is open: nothing reads
 * it again, and a stream can stay open for minutes with the request, so a prompt of hundreds of kilobytes would
 * otherwise stay in memory as long, and be promoted and marked by the collector, for every open stream.
 */
export function releaseClientBody(request: FastifyRequest): void {
  request.body = undefined;
  request.jsonBytes = null;
}

/**
 * The per-request facts every inference route passes to the services: the caller, the request id, an optional
 * pinned key, a signal that aborts when the client disconnects before the answer is complete, and the body's
 * JSON source.
 */
export function inferenceCall(request: FastifyRequest, route: InferenceCall['route'], native?: NativeRequest): InferenceCall {
  const facts = factsOf(request);
  if (!facts.inRoute) request.server.inferenceRoutes?.enter();
  facts.inRoute = true;
  const cancellation = new Cancellation();
  facts.cancellation = cancellation;
  const pinned = request.headers['x-tollgate-key-id'];
  if (!request.principal) throw errors.unauthorized('Missing credentials');
  // One object shape for every call, absent facts included: no conditional spreads on the hot path.
  return {
    principal: request.principal,
    requestId: String(request.id),
    signal: cancellation,
    route,
    pinnedKeyId: typeof pinned === 'string' && pinned !== '' ? pinned : undefined,
    source: sourceOf(request, route),
    native,
  };
}

/** Response headers naming who served the request. */
export function servedHeaders(servedBy: ServedBy): Record<string, string> {
  return { 'x-tollgate-provider': servedBy.provider, 'x-tollgate-model': servedBy.model, 'x-tollgate-key-id': servedBy.keyId };
}

/**
 * The error a stream ends with when an event cannot be read on its way to the client: the decoder forwards some
 * chunks as the upstream's text and parses them only when read, so what fails there is the upstream's reply.
 */
export function unreadableEvent(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  return errors.badGateway('The upstream sent a stream event Tollgate cannot read.', { code: 'upstream_stream_error', upstream: true, cause: error });
}

/**
 * The error a hijacked stream ends with when its relay fails: logged, recorded on the result (its settlement and
 * ledger row), and returned for the route to write as the stream's last event. Nothing would answer a rethrown
 * error once the response is hijacked, and the client would wait on an open stream.
 */
export function relayFailure(request: FastifyRequest, result: { fail(error: GatewayError): void }, error: unknown): GatewayError {
  const failure = isGatewayError(error) ? error : errors.internal('The stream failed inside Tollgate.', { cause: error });
  request.log.error({ err: error }, 'stream relay failed');
  result.fail(failure);
  return failure;
}
