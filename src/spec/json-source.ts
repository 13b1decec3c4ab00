/**
 * A request body as the client wrote it: its JSON text beside the value it was parsed (and validated) into, so
 * that members the gateway forwards unchanged can be copied from the text instead of serialised again.
 */

/** Where one top-level member (`"key": value`) sits in a JSON text: from its key's opening quote to its value's end. */
export interface JsonMemberSpan {
  start: number;
  end: number;
}

/**
 * A JSON object text and the value parsed from it. `values` is the validated body, whose top-level values are the
 * parsed form of the text's top-level members (validation may rebuild objects, but not change what they hold),
 * so a value identical to `values[key]` is faithfully written by that member's text. That holds only while nothing
 * changes those values in place: code that derives a body from them copies what it changes.
 */
export interface JsonSource {
  readonly text: string;
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * The top-level member spans by key, cached by `memberSpans` on first use so that retries and fallbacks scan
   * the text once; null when the text could not be scanned. Leave it out when creating a source.
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

/** The index just past the value starting at `start`, or -1. Nesting is tracked only outside strings. */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
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
      }
      index += 1;
    }
    return -1;
  }
  // A number, true, false or null: runs until the next delimiter.
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isWhitespace(code)) break;
    index += 1;
  }
  return index > start ? index : -1;
}

/**
 * Finds the top-level members of a JSON object text, assuming the text is valid JSON (it was parsed before).
 * A repeated key keeps its last span, as JSON.parse keeps the last value. Returns null when the text is not an
 * object or does not scan as one.
 */
export function scanMemberSpans(text: string): Map<string, JsonMemberSpan> | null {
  const spans = new Map<string, JsonMemberSpan>();
  let index = skipWhitespace(text, 0);
  if (text.charCodeAt(index) !== OPEN_BRACE) return null;
  index = skipWhitespace(text, index + 1);
  if (text.charCodeAt(index) === CLOSE_BRACE) return skipWhitespace(text, index + 1) === text.length ? spans : null;
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
    if (separator === CLOSE_BRACE) return skipWhitespace(text, index + 1) === text.length ? spans : null;
    if (separator !== COMMA) return null;
    index = skipWhitespace(text, index + 1);
  }
}

/** The source's top-level member spans, scanned on the first call and cached on the source. */
export function memberSpans(source: JsonSource): ReadonlyMap<string, JsonMemberSpan> | null {
  if (source.spans === undefined) source.spans = scanMemberSpans(source.text);
  return source.spans;
}
