import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { whenHandled, type InferenceLogFacts } from '../api/inference/inference-call.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request's line is written (a client that left early and the response's end both try). */
    requestLogged: boolean;
  }
}

/** Routes polled by machines, not worth a line each. */
const quietRoutes: ReadonlySet<string> = new Set(['/health', '/metrics']);

/** The status logged for a client that went away before its answer was complete (nginx's convention). */
const clientClosedStatus = 499;

/** What the request line is written through: `withoutRedaction(logger)` of the app's logger (server/logger.ts). */
export type RequestLineLogger = Pick<Logger, 'info' | 'isLevelEnabled'>;

/**
 * Installs the one log line per request: method, route, status and latency, and for inference requests who served
 * them (provider, model, key id) and the tokens they used. The line never holds a credential: it is built from
 * named facts only, never from headers or bodies, which is why it is written through `lineLogger`, a logger
 * without redaction, rather than through the request's redacting child logger; `reqId` is written as that child
 * would bind it. A client that left early is logged with status 499 once the route is done with the request, so
 * that the line still names the provider and key.
 */
export function installRequestLog(app: FastifyInstance, lineLogger: RequestLineLogger): void {
  const write = (request: FastifyRequest, status: number, elapsedMs: number): void => {
    if (request.requestLogged || quietRoutes.has(request.routeOptions.url ?? '')) return;
    request.requestLogged = true;
    if (!lineLogger.isLevelEnabled('info')) return;
    lineLogger.info(lineOf(request, status, elapsedMs), 'request');
  };

  app.decorateRequest('inference', null);
  // A flag in the request's own shape rather than a WeakSet: weak collections cost the garbage collector extra work.
  app.decorateRequest('requestLogged', false);
  // Callback hooks rather than async ones: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      void (request.inference ? whenHandled(request.inference) : Promise.resolve()).then(() => write(request, clientClosedStatus, reply.elapsedTime));
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    write(request, reply.statusCode, reply.elapsedTime);
    done();
  });
}

/** The line's fields, in the order they have always been written (Fastify's `reqId` binding first). */
function lineOf(request: FastifyRequest, status: number, elapsedMs: number): Record<string, unknown> {
  const route = request.routeOptions.url ?? null;
  const latencyMs = Math.round(elapsedMs * 100) / 100;
  const facts: InferenceLogFacts | null = request.inference;
  if (!facts) return { reqId: request.id, requestId: request.id, method: request.method, route, status, latencyMs };
  const line: Record<string, unknown> = {
    reqId: request.id,
    requestId: request.id,
    method: request.method,
    route,
    status,
    latencyMs,
    provider: facts.provider ?? null,
    model: facts.model ?? null,
    keyId: facts.keyId ?? null,
    stream: facts.stream ?? false,
    tokens: facts.usage ? { input: facts.usage.inputTokens, output: facts.usage.outputTokens, cached: facts.usage.cachedInputTokens } : null,
  };
  if (facts.errorCode) line.errorCode = facts.errorCode;
  return line;
}
