import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InferenceLogFacts } from '../api/inference/inference-call.js';

/** Routes polled by machines, not worth a line each. */
const quietRoutes: ReadonlySet<string> = new Set(['/health', '/metrics']);

/** The status logged for a client that went away before its answer was complete (nginx's convention). */
const clientClosedStatus = 499;

/**
 * Installs the one log line per request: method, route, status and latency, and for inference requests who served
 * them (provider, model, key id) and the tokens they used. The line never holds a credential: it is built from
 * named facts only, never from headers or bodies. A client that left early is logged with status 499 once the
 * route is done with the request, so that the line still names the provider and key.
 */
export function installRequestLog(app: FastifyInstance): void {
  const logged = new WeakSet<FastifyRequest>();
  const write = (request: FastifyRequest, status: number, elapsedMs: number): void => {
    if (logged.has(request) || quietRoutes.has(request.routeOptions.url ?? '')) return;
    logged.add(request);
    request.log.info(
      {
        requestId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        status,
        latencyMs: Math.round(elapsedMs * 100) / 100,
        ...(request.inference ? inferenceFields(request.inference) : {}),
      },
      'request',
    );
  };

  app.decorateRequest('inference', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      void (request.inference?.handled ?? Promise.resolve()).then(() => write(request, clientClosedStatus, reply.elapsedTime));
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    write(request, reply.statusCode, reply.elapsedTime);
  });
}

function inferenceFields(facts: InferenceLogFacts): Record<string, unknown> {
  return {
    provider: facts.provider ?? null,
    model: facts.model ?? null,
    keyId: facts.keyId ?? null,
    stream: facts.stream ?? false,
    tokens: facts.usage
      ? { input: facts.usage.inputTokens, output: facts.usage.outputTokens, cached: facts.usage.cachedInputTokens }
      : null,
    ...(facts.errorCode ? { errorCode: facts.errorCode } : {}),
  };
}
