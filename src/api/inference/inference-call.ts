import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../spec/errors.js';
import type { InferenceCall, ServedBy } from '../../core/inference/chat-service.js';
import '../route-access.js';

/**
 * The per-request facts every inference route passes to the services: the caller, the request id, an optional
 * pinned key, and a signal that aborts when the client disconnects before the answer is complete.
 */
export function inferenceCall(request: FastifyRequest, reply: FastifyReply, route: InferenceCall['route']): InferenceCall {
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
