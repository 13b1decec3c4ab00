/**
 * What the malformed-reply tests share: JSON values and paths into them, and the mutations the seeded fuzzes make of
 * a valid upstream reply (a member at any depth replaced by a value of another JSON type, or deleted).
 */
import type { RawReply } from '../mocks/mock-server.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Values of every JSON type, the awkward ones among them, that mutations put where a reply had something else. */
export const oddValues: Json[] = [null, true, false, 0, -1, -7.5, 1e308, 2 ** 60, '', 'x', 'constructor', '__proto__', '1e999', [], [1, 2, 3], [null], [{}], {}, { a: { b: [] } }, { type: 'text' }];

/** A raw reply of this value as JSON. */
export const json = (value: Json): RawReply => ({ raw: JSON.stringify(value) });

/** The parsed JSON, or undefined when the text is not JSON. */
export function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A deep copy. */
export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

function kindOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Every path to a member of `value`, at any depth, the root excluded. */
export function memberPaths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, Json]> = Array.isArray(value) ? value.map((child, index) => [index, child]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...memberPaths(child, [...prefix, key])]);
}

/** The object or list holding the member at `path`, and the member's key in it. */
export function parentOf(root: Json, path: Array<string | number>): { parent: any; key: string | number } {
  let parent: any = root;
  for (const key of path.slice(0, -1)) parent = parent[key];
  return { parent, key: path.at(-1)! };
}

/** Puts `value` at `path` (in place). */
export function setAt(root: Json, path: Array<string | number>, value: Json): void {
  const { parent, key } = parentOf(root, path);
  parent[key] = value;
}

/** Removes the member at `path` (in place); a list closes the gap. */
export function deleteAt(root: Json, path: Array<string | number>): void {
  const { parent, key } = parentOf(root, path);
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
}

/** Replaces a random member with a value of another JSON type (mostly), or deletes it; returns a description. */
export function mutateMember(root: Json, random: () => number): string {
  const paths = memberPaths(root);
  if (paths.length === 0) return 'nothing to mutate';
  const path = paths[Math.floor(random() * paths.length)]!;
  const { parent, key } = parentOf(root, path);
  if (random() < 0.2) {
    deleteAt(root, path);
    return `deleted ${path.join('.')}`;
  }
  const current = parent[key] as Json;
  const others = random() < 0.8 ? oddValues.filter((value) => kindOf(value) !== kindOf(current)) : oddValues;
  const replacement = clone(others[Math.floor(random() * others.length)]!);
  setAt(root, path, replacement);
  return `${path.join('.')} = ${JSON.stringify(replacement)}`;
}

/** A JSON text whose numbers may exceed doubles (`1e999` parses as Infinity): the NaN-producing token counts. */
export function withRawNumber(value: Json, path: Array<string | number>, number: string): string {
  const marker = '"__raw_number__"';
  const copy = clone(value);
  setAt(copy, path, '__raw_number__');
  return JSON.stringify(copy).replace(marker, number);
}

/**
 * Bodies that are no reply at all, as a proxy or a broken connection leaves them: HTML, empty, JSON of the wrong
 * kind, and `validText` cut short (also with the connection broken off).
 */
export function notReplies(validText: string): Array<[string, RawReply]> {
  const half = validText.slice(0, Math.floor(validText.length / 2));
  return [
    ['an HTML page', { raw: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' }],
    ['an empty body', { raw: '' }],
    ['a JSON array', { raw: '[]' }],
    ['a JSON array of numbers', { raw: '[1,2,3]' }],
    ['a JSON number', { raw: '42' }],
    ['JSON null', { raw: 'null' }],
    ['a JSON string', { raw: '"ok"' }],
    ['a truncated body', { raw: half }],
    ['a body broken off mid-way', { raw: half, cut: true }],
  ];
}
