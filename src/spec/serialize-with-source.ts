import { memberSpans, type JsonSource } from './json-source.js';

/**
 * Serialises a request body like `JSON.stringify(body)`, copying every top-level member whose value is the very
 * value parsed from the client's text (`source.values[key] === body[key]`) from that text instead of serialising
 * it again. Upstream bodies differ from the client's in a few small fields, while the prompt (tens of kilobytes of
 * messages) passes through untouched; copying its text costs a scan for quotes instead of a full serialisation.
 *
 * Identity is the test because values passed through by spreading keep their references, and an equal primitive
 * is written equally well by the client's text. Copied members keep the client's spelling (`1.0`, `\u00e9`,
 * whitespace), which parses to the same value. Without a source, or when its text does not scan as an object,
 * this is plain `JSON.stringify(body)`.
 */
export function serializeWithSource(body: Record<string, unknown>, source: JsonSource | undefined): string {
  if (source === undefined || typeof body.toJSON === 'function') return JSON.stringify(body);
  const spans = memberSpans(source);
  if (spans === null) return JSON.stringify(body);
  const { text, values } = source;
  let result = '{';
  let first = true;
  for (const key of Object.keys(body)) {
    const value = body[key];
    let member: string | undefined;
    const span = value !== undefined && value === values[key] ? spans.get(key) : undefined;
    if (span !== undefined) {
      member = text.slice(span.start, span.end);
    } else {
      // undefined for values JSON.stringify leaves out of objects (undefined, functions, symbols).
      const serialised = JSON.stringify(value) as string | undefined;
      if (serialised !== undefined) member = `${JSON.stringify(key)}:${serialised}`;
    }
    if (member === undefined) continue;
    result += first ? member : `,${member}`;
    first = false;
  }
  return `${result}}`;
}
