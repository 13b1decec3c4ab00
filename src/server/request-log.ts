import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { clientLeft, type InferenceLogFacts } from '../api/inference/inference-call.js';
import { lineWriter } from './request-line-writer.js';
import { declareRouteConfig, routeConfigOf } from './route-config.js';

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

/**
 * Installs the one log line per request: method, route, status and latency, and for inference requests who served
 * them (provider, model, key id) and the tokens they used. The line never holds a credential: it is built from
 * named facts only, never from headers or bodies, which is why it is written through `lineLogger`, a logger
 * without redaction, rather than through the request's redacting child logger; `reqId` is written as that child
 * would bind it. A client that left early is logged with status 499 once the route is done with the request, so
 * that the line still names the provider and key.
 */
export function installRequestLog(app: FastifyInstance, lineLogger: Logger): void {
  const writeLine = lineWriter(lineLogger, 'request');
  const write = (request: FastifyRequest, status: number, elapsedMs: number): void => {
    if (request.requestLogged || quietRoutes.has(routeConfigOf(request).url ?? '')) return;
    request.requestLogged = true;
    if (!lineLogger.isLevelEnabled('info')) return;
    writeLine(lineMembers(request, status, elapsedMs));
  };

  app.decorateRequest('inference', null);
  declareRouteConfig(app);
  // A flag in the request's own shape rather than a WeakSet: weak collections cost the garbage collector extra work.
  app.decorateRequest('requestLogged', false);
  // Callback hooks rather than async ones: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    // The one 'close' listener of a request: a client that leaves early also cancels its inference's upstream work.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      void (request.inference ? clientLeft(request.inference) : Promise.resolve()).then(() => write(request, clientClosedStatus, reply.elapsedTime));
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    write(request, reply.statusCode, reply.elapsedTime);
    done();
  });
}

/**
 * The line's members as JSON text, in the order they have always been written (Fastify's `reqId` binding first).
 * Every value is a number, a boolean, null or a string through JSON.stringify, so the text is valid JSON whatever a
 * client sent as its request id or model.
 */
export function lineMembers(request: FastifyRequest, status: number, elapsedMs: number): string {
  const route = routeConfigOf(request).url;
  const latencyMs = Math.round(elapsedMs * 100) / 100;
  const id = JSON.stringify(String(request.id));
  const head = `"reqId":${id},"requestId":${id},"method":${JSON.stringify(request.method)},"route":${route === undefined ? 'null' : JSON.stringify(route)},"status":${status},"latencyMs":${latencyMs}`;
  const facts: InferenceLogFacts | null = request.inference;
  if (!facts) return head;
  const usage = facts.usage;
  const tokens = usage ? `{"input":${usage.inputTokens},"output":${usage.outputTokens},"cached":${usage.cachedInputTokens}}` : 'null';
  const served = `,"provider":${textOrNull(facts.provider)},"model":${textOrNull(facts.model)},"keyId":${textOrNull(facts.keyId)},"stream":${facts.stream === true},"tokens":${tokens}`;
  return facts.errorCode ? `${head}${served},"errorCode":${JSON.stringify(facts.errorCode)}` : `${head}${served}`;
}

function textOrNull(value: string | undefined | null): string {
  return value === undefined || value === null ? 'null' : JSON.stringify(value);
}
