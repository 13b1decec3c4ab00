/**
 * JSON texts beside the values parsed from them (a client's request body, an upstream's reply), and where their
 * members and elements sit, so that what the gateway passes on unchanged can be copied from the text instead of
 * serialised again.
 */

/** Where a piece of a JSON text sits: from its first character to just past its last. */
export interface JsonSpan {
  start: number;
  end: number;
}

/** Where one member (`"key": value`) sits in a JSON text: from its key's opening quote to its value's end. */
export type JsonMemberSpan = JsonSpan;

/**
 * A JSON object text, as the UTF-8 bytes it arrived in, and the value parsed from it. `values` is the validated body,
 * whose top-level values are the parsed form of the text's top-level members (validation may rebuild objects, but not
 * change what they hold), so a value identical to `values[key]` is faithfully written by that member's bytes. That
 * holds only while nothing changes those values in place: code that derives a body from them copies what it changes.
 *
 * Bytes rather than the decoded text: a request's prompt is most of its body, and bytes live outside V8's heap, where
 * the collector neither copies nor marks them while the request is in flight; the upstream body is then put together
 * from them without encoding the prompt again.
 */
export interface JsonSource {
  readonly bytes: Buffer;
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * The top-level member spans by key, in byte offsets, cached by `memberSpans` on first use so that retries and
   * fallbacks scan the bytes once; null when they could not be scanned. Leave it out when creating a source.
   */
  spans?: ReadonlyMap<string, JsonMemberSpan> | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && isWhitespace(text.charCodeAt(index))) index += 1;
  return index;
}

/**
 * The index just past the string opening at `open`, or -1. Jumps from quote to quote with indexOf: a quote ends
 * the string unless an odd run of backslashes precedes it. The run cannot reach past the opening quote.
 */
function stringEnd(text: string, open: number): number {
  let search = open + 1;
  for (;;) {
    const quote = text.indexOf('"', search);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    search = quote + 1;
  }
}

/**
 * The characters that open or close a string or a container. A run of numbers inside a container (an embedding's
 * vector) is passed over by searching for the next of them, far faster than a loop of `charCodeAt` (1,536 numbers:
 * ~31 against ~148 µs); elsewhere the loop stays, as the search's own cost would exceed the few characters it skips
 * between a request body's strings. Global, so that `lastIndex` sets where the search starts.
 */
const STRUCTURAL = /["[\]{}]/g;

/** True for a character that begins a number (a minus sign or a digit). */
function beginsNumber(code: number): boolean {
  return code === 0x2d || (code >= 0x30 && code <= 0x39);
}

/** The index just past the object or array opening at `start`, or -1. Nesting is tracked only outside strings. */
function containerEnd(text: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = stringEnd(text, index);
      if (index < 0) return -1;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return index + 1;
    } else if (beginsNumber(code)) {
      // `test` rather than `exec`: it moves `lastIndex` past the match without building a match object.
      STRUCTURAL.lastIndex = index;
      if (!STRUCTURAL.test(text)) return -1;
      index = STRUCTURAL.lastIndex - 1;
      continue;
    }
    index += 1;
  }
  return -1;
}

/** The index just past the value starting at `start`, or -1. */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) return containerEnd(text, start);
  // A number, true, false or null: runs until the next delimiter.
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isWhitespace(code)) break;
    index += 1;
  }
  return index > start ? index : -1;
}

/** The members of the object opening at `start`, and the index just past it; null when it does not scan as one. */
function scanObject(text: string, start: number): { spans: Map<string, JsonMemberSpan>; end: number } | null {
  const spans = new Map<string, JsonMemberSpan>();
  if (text.charCodeAt(start) !== OPEN_BRACE) return null;
  let index = skipWhitespace(text, start + 1);
  if (text.charCodeAt(index) === CLOSE_BRACE) return { spans, end: index + 1 };
  for (;;) {
    if (text.charCodeAt(index) !== QUOTE) return null;
    const keyStart = index;
    const keyEnd = stringEnd(text, keyStart);
    if (keyEnd < 0) return null;
    const rawKey = text.slice(keyStart + 1, keyEnd - 1);
    let key: string;
    try {
      key = rawKey.includes('\\') ? (JSON.parse(text.slice(keyStart, keyEnd)) as string) : rawKey;
    } catch {
      return null;
    }
    index = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(index) !== COLON) return null;
    index = skipWhitespace(text, index + 1);
    const end = valueEnd(text, index);
    if (end < 0) return null;
    spans.set(key, { start: keyStart, end });
    index = skipWhitespace(text, end);
    const separator = text.charCodeAt(index);
    if (separator === CLOSE_BRACE) return { spans, end: index + 1 };
    if (separator !== COMMA) return null;
    index = skipWhitespace(text, index + 1);
  }
}

/**
 * Finds the top-level members of a JSON object text, assuming the text is valid JSON (it was parsed before).
 * A repeated key keeps its last span, as JSON.parse keeps the last value. Returns null when the text is not an
 * object or does not scan as one.
 */
export function scanMemberSpans(text: string): Map<string, JsonMemberSpan> | null {
  const scanned = scanObject(text, skipWhitespace(text, 0));
  return scanned !== null && skipWhitespace(text, scanned.end) === text.length ? scanned.spans : null;
}

/** Where a member's value begins, from the span `scanMemberSpans` or `objectMemberSpans` gave for the member. */
export function memberValueStart(text: string, span: JsonMemberSpan): number {
  return skipWhitespace(text, skipWhitespace(text, stringEnd(text, span.start)) + 1);
}

/** The text of a member's value, from the span `scanMemberSpans` or `objectMemberSpans` gave for the member. */
export function memberValueText(text: string, span: JsonMemberSpan): string {
  return text.slice(memberValueStart(text, span), span.end);
}

/**
 * The members of the object whose text begins at `start` (after any whitespace) inside a larger valid JSON text, or
 * null when no object begins there.
 */
export function objectMemberSpans(text: string, start: number): Map<string, JsonMemberSpan> | null {
  return scanObject(text, skipWhitespace(text, start))?.spans ?? null;
}

/**
 * Where each element of the array whose text begins at `start` (after any whitespace) sits, from its first character
 * to just past its last, inside a larger valid JSON text; null when no array begins there.
 */
export function arrayElementSpans(text: string, start: number): JsonSpan[] | null {
  let index = skipWhitespace(text, start);
  if (text.charCodeAt(index) !== OPEN_BRACKET) return null;
  const elements: JsonSpan[] = [];
  index = skipWhitespace(text, index + 1);
  if (text.charCodeAt(index) === CLOSE_BRACKET) return elements;
  for (;;) {
    const end = valueEnd(text, index);
    if (end < 0) return null;
    elements.push({ start: index, end });
    index = skipWhitespace(text, end);
    const separator = text.charCodeAt(index);
    if (separator === CLOSE_BRACKET) return elements;
    if (separator !== COMMA) return null;
    index = skipWhitespace(text, index + 1);
  }
}

/**
 * The source's top-level member spans in byte offsets, scanned on the first call and cached on the source. A member
 * whose key holds a character outside ASCII has no span (it is serialised again): see `byteSpans`.
 */
export function memberSpans(source: JsonSource): ReadonlyMap<string, JsonMemberSpan> | null {
  if (source.spans === undefined) source.spans = byteSpans(source.bytes);
  return source.spans;
}

/**
 * Scans UTF-8 bytes as Latin-1 text, one character a byte, so that the spans found are byte offsets. Every character
 * of JSON's structure (quotes, backslashes, brackets, commas, colons, whitespace) is one ASCII byte, and no byte of a
 * multi-byte UTF-8 character is ASCII, so the scan finds the same members as in the decoded text. Keys are read from
 * that text too: one that holds any other character would be read as its bytes, not its characters, and could then
 * name another member, so it is left out. The Latin-1 text is a copy that dies with this call.
 */
function byteSpans(bytes: Buffer): Map<string, JsonMemberSpan> | null {
  const spans = scanMemberSpans(bytes.toString('latin1'));
  if (spans === null) return null;
  for (const key of spans.keys()) if (!isAscii(key)) spans.delete(key);
  return spans;
}

/** True when every character of a (short) text is ASCII; a loop, cheaper than a regular expression for a key. */
export function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}
