import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, isGatewayError } from '../../spec/errors.js';
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
  /** Resolves when the route is done with the request, so that a client who left early is logged with full facts. */
  handled?: Promise<void>;
}

const handledResolvers = new WeakMap<FastifyRequest, () => void>();

/** Tells the log line that the route is done with the request (call it on every exit path). */
export function markHandled(request: FastifyRequest): void {
  handledResolvers.get(request)?.();
  handledResolvers.delete(request);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Filled in by the inference routes (and the error hook); read by the server's log line. Null elsewhere. */
    inference: InferenceLogFacts | null;
  }
}

/** Notes who served a request (and, when already known, its usage) for the log line. */
export function noteServed(request: FastifyRequest, servedBy: ServedBy, details: { stream: boolean; usage?: TokenUsage | undefined }): void {
  request.inference = {
    ...request.inference,
    provider: servedBy.provider,
    model: servedBy.model,
    keyId: servedBy.keyId,
    stream: details.stream,
    ...(details.usage ? { usage: details.usage } : {}),
  };
}

/** Notes the provider and code of the error a route ends with. */
export function noteFailure(request: FastifyRequest, error: unknown): void {
  if (!isGatewayError(error)) return;
  request.inference = {
    ...request.inference,
    ...(error.provider && !request.inference?.provider ? { provider: error.provider } : {}),
    ...(error.model && !request.inference?.model ? { model: error.model } : {}),
    errorCode: error.code,
  };
}

/** Notes what a stream consumed and how it ended, once it ended. */
export function noteStreamEnd(request: FastifyRequest, usage: TokenUsage | undefined, errorCode: string | undefined): void {
  request.inference = { ...request.inference, ...(usage ? { usage } : {}), ...(errorCode ? { errorCode } : {}) };
}

/**
 * The per-request facts every inference route passes to the services: the caller, the request id, an optional
 * pinned key, and a signal that aborts when the client disconnects before the answer is complete.
 */
export function inferenceCall(request: FastifyRequest, reply: FastifyReply, route: InferenceCall['route']): InferenceCall {
  let resolveHandled = () => {};
  const handled = new Promise<void>((resolve) => {
    resolveHandled = resolve;
  });
  handledResolvers.set(request, resolveHandled);
  request.inference = { ...request.inference, handled };
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  const pinned = request.headers['x-tollgate-key-id'];
  if (!request.principal) throw errors.unauthorized('Missing credentials');
  return {
    principal: request.principal,
    requestId: String(request.id),
    signal: controller.signal,
    route,
    ...(typeof pinned === 'string' && pinned !== '' ? { pinnedKeyId: pinned } : {}),
  };
}

/** Response headers naming who served the request. */
export function servedHeaders(servedBy: ServedBy): Record<string, string> {
  return { 'x-tollgate-provider': servedBy.provider, 'x-tollgate-model': servedBy.model, 'x-tollgate-key-id': servedBy.keyId };
}
