import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The bytes of a JSON body, kept so that adapters can forward the members they leave unchanged as the client
     * wrote them instead of serialising them again. Null for requests without a JSON body.
     */
    jsonBytes: Buffer | null;
  }
}

/**
 * Text that could spell a `__proto__` or `constructor` key: the words themselves, or any `\u` escape (with which
 * a key can spell them without the words appearing). Bodies without any of them cannot poison a prototype.
 */
function mayPoison(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
}

/**
 * Replaces Fastify's JSON body parser with one that runs plain `JSON.parse` on bodies that cannot hold a
 * prototype-poisoning key, and Fastify's own secure parser (which rejects such keys) on the others. The secure
 * parser scans every body with two regular expressions, a cost that grows with the prompt on every inference
 * request; a substring search for the same danger is several times cheaper and errs only towards the slow path.
 * Also keeps each body's bytes as `request.jsonBytes` (bytes, not text: see `JsonSource`); its decoded text is
 * needed only to parse it. Call it on the root instance, before any route is added, so that every request has that
 * property.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  // Declared up front (null) so that every request object has the same shape.
  if (!app.hasRequestDecorator('jsonBytes')) app.decorateRequest('jsonBytes', null);
  const secure = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    const text = bytes.toString('utf8');
    // Kept even when parsing fails: such a request ends with a 400 before anything reads it.
    request.jsonBytes = bytes;
    if (text.length === 0 || mayPoison(text)) {
      secure(request, text, done);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The secure parser answers invalid JSON with Fastify's own error, which the error handler maps.
      secure(request, text, done);
      return;
    }
    done(null, parsed);
  });
}
