import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { GatewayError, errors, isGatewayError } from '../spec/errors.js';
import { renderErrorBody } from '../spec/error-body.js';

/** Sends a GatewayError as the seed-002 error object, with its headers. */
export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.status).type('application/json').send(renderErrorBody(error, String(reply.request.id)));
}

/** Turns anything thrown by a route into a GatewayError; unknown errors become an opaque 500. */
export function toGatewayError(error: unknown, request: FastifyRequest): GatewayError {
  if (isGatewayError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const issue = error.validation[0];
    const path = (issue?.instancePath ?? '').split('/').filter(Boolean);
    const unknownKeys = issue?.keyword === 'unrecognized_keys' ? ((issue.params as { keys?: string[] }).keys ?? []) : [];
    if (unknownKeys.length > 0) {
      const names = unknownKeys.map((key) => [...path, key].join('.'));
      return errors.badRequest(
        `Unknown field${names.length > 1 ? 's' : ''} in ${where}: ${names.map((name) => `"${name}"`).join(', ')}`,
        { param: names[0]!, code: 'unknown_field' },
      );
    }
    const param = path.join('.') || null;
    return errors.badRequest(`Invalid ${where}${param ? ` field "${param}"` : ''}: ${issue?.message ?? 'invalid value'}`, {
      param,
      code: 'invalid_request',
    });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return errors.tooLarge('Request body is too large', { code: 'request_too_large' });
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new GatewayError({ status: 415, type: 'invalid_request_error', code: 'unsupported_media_type', message: 'Content-Type must be application/json' });
  }
  if (fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return errors.badRequest('Request body is empty but Content-Type is application/json', { code: 'invalid_json' });
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return errors.badRequest('Request body is not valid JSON', { code: 'invalid_json' });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError({ status, type: 'invalid_request_error', code: (fastifyError.code ?? 'invalid_request').toLowerCase(), message: fastifyError.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return errors.internal('Internal server error');
}

/** Installs the one error renderer and the 404 handler. */
export function installErrorHandling(app: FastifyInstance): void {
  // Every body Tollgate reads is JSON. Fastify's default text/plain parser would hand a string to the JSON
  // routes, turning a wrong Content-Type into a 400 about the body instead of a 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toGatewayError(error, request);
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    return sendError(reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, errors.notFound(`No route for ${request.method} ${request.url.split('?')[0]}`, { code: 'route_not_found' })),
  );
}
