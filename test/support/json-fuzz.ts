/**
 * A seeded, deterministic mutator of JSON bodies and query strings for the malformed-input suites: a small PRNG,
 * values of every JSON type (and JSON texts that `JSON.stringify` cannot write), and mutations of a valid request
 * that leave the rest of it valid, so that each mutated request reaches the check its mutation is aimed at.
 */

/** JSON text spliced into a body as is: numbers `JSON.stringify` cannot write (1e309, -0), deep nesting. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A source of random choices; the same seed gives the same sequence on every run and platform. */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, below). */
  below(below: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

/** mulberry32: 32 bits of state, enough to vary bodies, and no dependency on Math.random. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
  const below = (limit: number): number => Math.floor(next() * limit);
  return {
    next,
    below,
    pick: <T>(items: readonly T[]): T => items[below(items.length)]!,
    chance: (probability) => next() < probability,
  };
}

/** Writes a body as JSON text, splicing RawJson in; keys such as `__proto__` are written as the own keys they are. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${toJsonText((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Sets an own member, even one named `__proto__` (a plain assignment would change the prototype instead). */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function clone(value: unknown): unknown {
  if (value instanceof RawJson) return value;
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setMember(copy, key, clone((value as Record<string, unknown>)[key]));
    return copy;
  }
  return value;
}

const nested = (open: string, close: string, depth: number, inner = ''): RawJson => new RawJson(open.repeat(depth) + inner + close.repeat(depth));

/** Values of every JSON type, chosen for the edges a validator or a store may miss. */
const oddValueMakers: ReadonlyArray<() => unknown> = [
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -1,
  () => new RawJson('-0'),
  () => 0.5,
  () => -1.5,
  () => 1e308,
  () => -1e308,
  () => 5e-324,
  () => 2 ** 53 + 2,
  () => 1e15 + 1,
  () => 1e16,
  () => new RawJson('1e309'),
  () => new RawJson('-1e309'),
  () => new RawJson('123456789012345678901234567890'),
  () => new RawJson('1E-400'),
  () => '',
  () => ' ',
  () => '1e309',
  () => 'NaN',
  () => 'Infinity',
  () => '-1',
  () => 'true',
  () => 'null',
  () => '\u0000',
  () => 'a\u0000b',
  () => '\ud800',
  () => 'x\udfffy',
  () => '\ud83d\ude00 emoji',
  () => 'e\u0301\u202e\u2028\ufeff',
  () => '\r\nInjected: header',
  () => '\t',
  () => 'x'.repeat(5_000),
  () => '\u00e9'.repeat(60_000),
  () => '../../etc/passwd',
  () => 'a/b%2F..%2F',
  () => '*'.repeat(300),
  () => 'a*'.repeat(40) + 'b',
  () => 'env.',
  () => 'env.1BAD',
  () => 'env.TOLLGATE_FUZZ_UNSET',
  () => 'env.__proto__',
  () => '********',
  () => `abcd${'*'.repeat(24)}wxyz`,
  () => '__proto__',
  () => 'constructor',
  () => "'; drop table provider_keys; --",
  () => '<script>alert(1)</script>',
  () => '2026-02-30T00:00:00Z',
  () => '9999-12-31T23:59:59-23:59',
  () => '0000-01-01T00:00:00+01:00',
  () => '2026-11-23T12:00:00',
  () => 'http://',
  () => 'http://[::1',
  () => 'javascript:alert(1)',
  () => `https://example.com/${'a'.repeat(3_000)}`,
  () => [],
  () => [[]],
  () => [null],
  () => [1, 'a', {}, []],
  () => [''],
  () => ['\u0000'],
  () => Array.from({ length: 2_000 }, (_, index) => `m${index}`),
  () => ({}),
  () => ({ a: 1 }),
  () => ({ '': '' }),
  () => ({ value: null }),
  () => ({ env_var: 5 }),
  () => ({ from_env: 'yes' }),
  () => nested('[', ']', 5_000),
  () => nested('{"a":', '}', 5_000, '1'),
  () => nested('[', ']', 200_000),
  () => new RawJson('{"__proto__":{"polluted":true}}'),
  () => new RawJson('{"constructor":{"prototype":{"polluted":true}}}'),
  () => new RawJson('"\\u0000"'),
  () => new RawJson('"\\ud800"'),
  () => new RawJson('{"a":1,"a":2}'),
];

/** One odd value. */
export function oddValue(random: Random): unknown {
  return random.pick(oddValueMakers)();
}

/** Member names a body should not have. */
export const oddKeys: readonly string[] = [
  'unknown_field',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'a.b',
  'a/b',
  '0',
  '\u0000',
  '\ud800',
  'x'.repeat(1_000),
];

/** A value near `value`: the same type pushed to an edge, or a close relative of another type. */
function nearbyValue(value: unknown, random: Random): unknown {
  if (typeof value === 'string') {
    return random.pick<() => unknown>([
      () => '',
      () => ` ${value}`,
      () => `${value}\u0000`,
      () => `${value}\ud800`,
      () => value.repeat(Math.ceil(3_000 / Math.max(1, value.length))),
      () => value.toUpperCase(),
      () => Number(value),
      () => [value],
      () => ({ value }),
    ])();
  }
  if (typeof value === 'number') {
    return random.pick<() => unknown>([
      () => -value,
      () => value + 0.5,
      () => value * 1e300,
      () => 0,
      () => new RawJson('-0'),
      () => new RawJson('1e309'),
      () => String(value),
      () => Number.MAX_SAFE_INTEGER + 2,
    ])();
  }
  if (typeof value === 'boolean') return random.pick<unknown>([String(value), value ? 1 : 0, null]);
  if (Array.isArray(value)) {
    return random.pick<() => unknown>([
      () => [],
      () => [...value, ...value],
      () => [...value, oddValue(random)],
      () => [value],
      () => Object.fromEntries(value.map((item, index) => [String(index), item])),
    ])();
  }
  if (value !== null && typeof value === 'object') return random.pick<unknown>([{}, [value], Object.values(value)]);
  return oddValue(random);
}

type Path = Array<string | number>;

/** Every node of a body (objects' members, arrays' first few items), root first. */
function paths(value: unknown, prefix: Path = []): Path[] {
  const found: Path[] = [prefix];
  if (value instanceof RawJson || value === null || typeof value !== 'object') return found;
  if (Array.isArray(value)) {
    value.slice(0, 4).forEach((item, index) => found.push(...paths(item, [...prefix, index])));
  } else {
    for (const key of Object.keys(value)) found.push(...paths((value as Record<string, unknown>)[key], [...prefix, key]));
  }
  return found;
}

function read(root: unknown, path: Path): unknown {
  let current = root;
  for (const part of path) current = (current as Record<string | number, unknown>)[part];
  return current;
}

function write(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = read(root, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent[last as number] = value;
  else setMember(parent as Record<string, unknown>, String(last), value);
  return root;
}

const shown = (value: unknown): string => {
  const text = toJsonText(value);
  return text.length > 60 ? `${text.slice(0, 60)}... (${text.length} characters)` : text;
};

/** A mutated body and what was done to it, for the failure messages (the seed and iteration reproduce it). */
export interface Mutation {
  body: unknown;
  description: string;
}

/**
 * One to three mutations of a valid body: a member's value replaced by an odd value or a nearby one, a member
 * deleted, an unknown member added, a node wrapped in an array or an object, or (rarely) the whole body replaced.
 */
export function mutateBody(valid: unknown, random: Random): Mutation {
  let body = clone(valid);
  const steps: string[] = [];
  const count = random.chance(0.6) ? 1 : random.chance(0.6) ? 2 : 3;
  for (let step = 0; step < count; step += 1) {
    const nodes = paths(body);
    const inner = nodes.filter((path) => path.length > 0);
    const objects = nodes.filter((path) => {
      const node = read(body, path);
      return node !== null && typeof node === 'object' && !Array.isArray(node) && !(node instanceof RawJson);
    });
    const members = inner.filter((path) => typeof path[path.length - 1] === 'string');
    const roll = random.next();
    if (roll < 0.02 || inner.length === 0) {
      body = oddValue(random);
      steps.push(`body = ${shown(body)}`);
    } else if (roll < 0.4) {
      const path = random.pick(inner);
      const value = oddValue(random);
      body = write(body, path, value);
      steps.push(`${path.join('.')} = ${shown(value)}`);
    } else if (roll < 0.6) {
      const path = random.pick(inner);
      const value = nearbyValue(read(body, path), random);
      body = write(body, path, value);
      steps.push(`${path.join('.')} ~ ${shown(value)}`);
    } else if (roll < 0.75 && members.length > 0) {
      const path = random.pick(members);
      delete (read(body, path.slice(0, -1)) as Record<string, unknown>)[path[path.length - 1] as string];
      steps.push(`delete ${path.join('.')}`);
    } else if (roll < 0.9 && objects.length > 0) {
      const path = random.pick(objects);
      const key = random.pick(oddKeys);
      const value = oddValue(random);
      setMember(read(body, path) as Record<string, unknown>, key, value);
      steps.push(`add ${[...path, JSON.stringify(key).slice(0, 30)].join('.')} = ${shown(value)}`);
    } else {
      const path = random.pick(inner);
      const node = read(body, path);
      const wrapped = random.chance(0.5) ? [node] : { value: node };
      body = write(body, path, wrapped);
      steps.push(`wrap ${path.join('.')}`);
    }
  }
  return { body, description: steps.join('; ') };
}

/** A query parameter as it is written in the URL: the name and value already encoded, or a bare name. */
export type QueryPart = { name: string; value?: string };

/** Query-string values that are not plain text: bad escapes, separators, encoded control characters. */
const rawQueryValues: readonly string[] = ['%', '%zz', '%00', 'a%00b', '%F0%9F', '%ud800', '&', '=', '+', '%2B', '[]', '%E2%80%AE', '..%2F..'];

/** encodeURIComponent, except that an unpaired surrogate (which it refuses) becomes the bytes UTF-8 must not hold. */
function encodeQueryText(text: string): string {
  let encoded = '';
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      encoded += encodeURIComponent(text.slice(index, index + 2));
      index += 1;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      const byte = (value: number): string => `%${value.toString(16).toUpperCase()}`;
      encoded += byte(0xed) + byte(0x80 | ((unit >> 6) & 0x3f)) + byte(0x80 | (unit & 0x3f));
    } else {
      encoded += encodeURIComponent(text[index]!);
    }
  }
  return encoded;
}

/** Replaces, deletes, duplicates, empties or adds query parameters (one to three of these). */
export function mutateQuery(valid: readonly QueryPart[], random: Random): { parts: QueryPart[]; description: string } {
  const parts = valid.map((part) => ({ ...part }));
  const steps: string[] = [];
  const count = random.chance(0.6) ? 1 : 2;
  const oddText = (): string => {
    if (random.chance(0.35)) return random.pick(rawQueryValues);
    const value = oddValue(random);
    return encodeQueryText(typeof value === 'string' ? value : toJsonText(value).slice(0, 5_000));
  };
  for (let step = 0; step < count; step += 1) {
    const roll = random.next();
    const index = random.below(Math.max(1, parts.length));
    const part = parts[index];
    if (part && roll < 0.45) {
      part.value = oddText();
      steps.push(`${part.name}=${part.value.slice(0, 60)}`);
    } else if (part && roll < 0.6) {
      parts.splice(index, 1);
      steps.push(`delete ${part.name}`);
    } else if (part && roll < 0.7) {
      parts.push({ name: part.name, value: oddText() });
      steps.push(`repeat ${part.name}`);
    } else if (part && roll < 0.8) {
      part.value = random.chance(0.5) ? '' : undefined;
      steps.push(`empty ${part.name}`);
    } else if (part && roll < 0.85) {
      part.name = `${part.name}[]`;
      steps.push(`bracket ${part.name}`);
    } else {
      const name = encodeQueryText(random.pick(oddKeys));
      parts.push({ name, value: oddText() });
      steps.push(`add ${name.slice(0, 30)}`);
    }
  }
  return { parts, description: steps.join('; ') };
}

/** Writes query parts as a query string (with the leading "?", or "" when there are none). */
export function queryText(parts: readonly QueryPart[]): string {
  if (parts.length === 0) return '';
  return `?${parts.map((part) => (part.value === undefined ? part.name : `${part.name}=${part.value}`)).join('&')}`;
}
