import { isAscii, memberSpans, type JsonSource } from './json-source.js';

/**
 * Serialises a request body like `JSON.stringify(body)`, copying every top-level member whose value is the very
 * value parsed from the client's text (`source.values[key] === body[key]`) from that text's bytes instead of
 * serialising it again. Upstream bodies differ from the client's in a few small fields, while the prompt (tens of
 * kilobytes of messages) passes through untouched; copying its bytes costs a scan for quotes instead of a full
 * serialisation, and the prompt never becomes a string of the heap again.
 *
 * Identity is the test because values passed through by spreading keep their references, and an equal primitive
 * is written equally well by the client's text. Copied members keep the client's spelling (`1.0`, `\u00e9`,
 * whitespace), which parses to the same value. With a source whose bytes scan as an object the result is the body's
 * UTF-8 bytes; otherwise it is plain `JSON.stringify(body)`.
 */
export function serializeWithSource(body: Record<string, unknown>, source: JsonSource | undefined): string | Uint8Array {
  if (source === undefined || typeof body.toJSON === 'function') return JSON.stringify(body);
  const spans = memberSpans(source);
  if (spans === null) return JSON.stringify(body);
  const { bytes, values } = source;
  // Copied members by their byte ranges; the text before each (separators, members serialised again) in `texts`:
  // texts[i], then range i, …, then the last text.
  const texts: string[] = [];
  const ranges: number[] = [];
  let text = '{';
  let first = true;
  for (const key of Object.keys(body)) {
    const value = body[key];
    const span = value !== undefined && value === values[key] ? spans.get(key) : undefined;
    if (span !== undefined) {
      texts.push(first ? text : `${text},`);
      ranges.push(span.start, span.end);
      text = '';
      first = false;
      continue;
    }
    // undefined for values JSON.stringify leaves out of objects (undefined, functions, symbols).
    const serialised = JSON.stringify(value) as string | undefined;
    if (serialised === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${serialised}`;
    first = false;
  }
  texts.push(`${text}}`);
  return joinPieces(bytes, texts, ranges);
}

/** The texts encoded as UTF-8, with the byte ranges of `bytes` between them, in one buffer. */
function joinPieces(bytes: Buffer, texts: readonly string[], ranges: readonly number[]): Buffer {
  let length = 0;
  for (const text of texts) length += text.length <= SHORT_TEXT && isAscii(text) ? text.length : Buffer.byteLength(text);
  for (let index = 0; index < ranges.length; index += 2) length += ranges[index + 1]! - ranges[index]!;
  const joined = Buffer.allocUnsafe(length);
  let offset = writeText(joined, texts[0]!, 0);
  for (let index = 0; index < ranges.length; index += 2) {
    const start = ranges[index]!;
    const end = ranges[index + 1]!;
    joined.set(bytes.subarray(start, end), offset);
    offset += end - start;
    offset += writeText(joined, texts[index / 2 + 1]!, offset);
  }
  return joined;
}

/**
 * Texts this short are written a character at a time when they are ASCII (separators, a model name, a flag): a
 * `Buffer.write` call costs more than the loop for them.
 */
const SHORT_TEXT = 64;

/** Writes a text as UTF-8 at `offset`; returns the bytes written. */
function writeText(target: Buffer, text: string, offset: number): number {
  if (text.length > SHORT_TEXT || !isAscii(text)) return target.write(text, offset);
  for (let index = 0; index < text.length; index += 1) target[offset + index] = text.charCodeAt(index);
  return text.length;
}
