import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';

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
 * Text that could spell a `__proto__` or `constructor` key: the key quoted as JSON writes a key without escapes, or
 * any `\u` escape (the only way a letter or `_` can be escaped, and so the only way a key can spell them otherwise).
 * Bodies without any of them cannot poison a prototype. The searches include the quotes, rare in prose: `constructor`
 * alone took 40–48 µs on 100 KB of French, German or code (more than `JSON.parse` of the same text), the quoted word
 * 1.5–2.6 µs on every text tried. The escape goes first, found within a few characters in text that has one.
 */
function maySpellDangerousKey(text: string): boolean {
  return text.includes('\\u') || text.includes('"__proto__"') || text.includes('"constructor"');
}

/**
 * True when a parsed body holds a `__proto__` member or a `constructor` member with a `prototype`, at any depth:
 * Fastify's own check (`secure-json-parse`'s scan), run on the value.
 */
function holdsDangerousKey(parsed: unknown): boolean {
  if (parsed === null || typeof parsed !== 'object') return false;
  try {
    secureJson.scan(parsed, { protoAction: 'error', constructorAction: 'error' });
    return false;
  } catch {
    return true;
  }
}

/** What `parseUnlessDangerous` answers for text it leaves to the secure parser. */
export const DANGEROUS: unique symbol = Symbol('dangerous');

/**
 * `JSON.parse(text)`, or `DANGEROUS` for text that is not JSON (an empty body, a byte-order mark) or that holds a
 * prototype-poisoning key: the secure parser answers those with Fastify's own errors, which the error handler maps.
 */
export function parseUnlessDangerous(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return DANGEROUS;
  }
  return maySpellDangerousKey(text) && holdsDangerousKey(parsed) ? DANGEROUS : parsed;
}

/**
 * Replaces Fastify's JSON body parser with one that runs plain `JSON.parse`, and checks the parsed keys only of
 * bodies whose text could spell a prototype-poisoning key; a body that holds one goes to Fastify's own secure parser,
 * which refuses it as it refuses any such body. The secure parser scans every body's text with two regular
 * expressions before it looks at the keys, a cost that grows with the prompt: about as much again as `JSON.parse`
 * on text with `\u` escapes, which clients that escape every character outside ASCII (Python's `json` module by
 * default) send in any prompt that is not plain English, and which prompts holding code (`constructor`) pay too.
 * The scan of the parsed value visits only its objects.
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
    const parsed = parseUnlessDangerous(text);
    if (parsed === DANGEROUS) {
      secure(request, text, done);
      return;
    }
    done(null, parsed);
  });
}
