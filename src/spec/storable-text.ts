import { z } from 'zod';

/**
 * A NUL character, or a UTF-16 surrogate without its pair. PostgreSQL's text types refuse NUL (the write fails), and
 * UTF-8 has no encoding for an unpaired surrogate, so both stores keep U+FFFD in its place: the row read back at the
 * next start differs from the one the write answered.
 */
const unstorablePattern = '\\u0000|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const unstorable = new RegExp(unstorablePattern);
const everyUnstorable = new RegExp(unstorablePattern, 'g');
/** Either kind of code unit at all: most text has none, and is passed without running the pattern. */
const suspect = /[\u0000\ud800-\udfff]/;

/** True when every store keeps the text exactly as given. */
export function isStorableText(text: string): boolean {
  return !suspect.test(text) || !unstorable.test(text);
}

/** The text with U+FFFD for each character no store keeps, as the stores would keep it; the text itself when none. */
export function toStorableText(text: string): string {
  return isStorableText(text) ? text : text.replace(everyUnstorable, '\ufffd');
}

/**
 * Refines a string schema for text that a store column holds as is (names, ids, descriptions, filters compared with
 * a column). Text inside a JSON document needs no such rule: JSON escapes both characters.
 */
export function storableText(schema: z.ZodString): z.ZodString {
  return schema.refine(isStorableText, 'must not contain a NUL character (\\u0000) or an unpaired UTF-16 surrogate');
}
