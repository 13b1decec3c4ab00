import { describe, expect, it } from 'vitest';
import { isAscii, type JsonSource } from './json-source.js';
import { serializeWithSource } from './serialize-with-source.js';

/** A seeded generator (mulberry32), so that a failing case can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Writes random JSON texts the way different clients might: random whitespace, numbers spelled in every JSON
 * form, strings with escapes of every kind (or none), repeated keys.
 */
class JsonWriter {
  constructor(readonly random: () => number) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  whitespace(): string {
    if (this.chance(0.6)) return '';
    let text = '';
    const length = 1 + Math.floor(this.random() * 3);
    for (let index = 0; index < length; index += 1) text += this.pick([' ', '\n', '\r', '\t', '  ']);
    return text;
  }

  digits(minimum: number): string {
    let text = '';
    const length = minimum + Math.floor(this.random() * 4);
    for (let index = 0; index < length; index += 1) text += String(Math.floor(this.random() * 10));
    return text;
  }

  number(): string {
    const sign = this.chance(0.3) ? '-' : '';
    const integer = this.chance(0.3) ? '0' : String(1 + Math.floor(this.random() * 9)) + this.digits(0);
    const fraction = this.chance(0.4) ? `.${this.digits(1)}` : '';
    const exponent = this.chance(0.3) ? `${this.pick(['e', 'E'])}${this.pick(['', '+', '-'])}${this.digits(1).slice(0, 2)}` : '';
    return sign + integer + fraction + exponent;
  }

  /** A string literal: every character written raw where JSON allows it, or escaped in one of its forms. */
  string(alphabet: readonly string[]): string {
    let text = '"';
    const length = Math.floor(this.random() * 8);
    for (let index = 0; index < length; index += 1) {
      const character = this.pick(alphabet);
      // A character beyond the BMP is written raw whole or as two escapes: one half raw would be a lone surrogate,
      // which has no UTF-8 bytes, and a client's body arrives as UTF-8.
      const pair = character.length === 2 && character.codePointAt(0)! > 0xffff;
      if (pair) text += this.chance(0.6) ? character : character.split('').map((unit) => this.escaped(unit)).join('');
      else for (const unit of character.split('')) text += this.character(unit);
    }
    return `${text}"`;
  }

  character(unit: string): string {
    const code = unit.charCodeAt(0);
    const mustEscape = unit === '"' || unit === '\\' || code < 0x20;
    if (!mustEscape && this.chance(0.8)) return unit;
    return this.escaped(unit);
  }

  escaped(unit: string): string {
    const hex = unit.charCodeAt(0).toString(16).padStart(4, '0');
    const short: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    if (short[unit] !== undefined && this.chance(0.5)) return short[unit];
    return `\\u${this.chance(0.5) ? hex : hex.toUpperCase()}`;
  }

  value(depth: number): string {
    const kinds = depth >= 3 ? ['number', 'string', 'literal'] : ['number', 'string', 'literal', 'array', 'object'];
    switch (this.pick(kinds)) {
      case 'number':
        return this.number();
      case 'string':
        return this.string(VALUE_ALPHABET);
      case 'literal':
        return this.pick(['true', 'false', 'null']);
      case 'array': {
        const length = Math.floor(this.random() * 4);
        const items = Array.from({ length }, () => this.whitespace() + this.value(depth + 1) + this.whitespace());
        return `[${items.join(',') || this.whitespace()}]`;
      }
      default:
        return this.object(depth + 1).text;
    }
  }

  /** An object text, with the text of each member by key (the last one for a repeated key). */
  object(depth: number): { text: string; members: Map<string, string> } {
    const members = new Map<string, string>();
    const parts: string[] = [];
    const keys: string[] = [];
    const count = Math.floor(this.random() * (depth === 0 ? 9 : 4));
    for (let index = 0; index < count; index += 1) {
      const keyText = keys.length > 0 && this.chance(0.15) ? this.pick(keys) : this.string(KEY_ALPHABET);
      keys.push(keyText);
      const member = `${keyText}${this.whitespace()}:${this.whitespace()}${this.value(depth)}`;
      members.set(JSON.parse(keyText) as string, member);
      parts.push(this.whitespace() + member + this.whitespace());
    }
    return { text: `{${parts.join(',') || this.whitespace()}}`, members };
  }
}

const VALUE_ALPHABET = ['a', 'z', ' ', '"', '\\', '/', '{', '}', '[', ']', ',', ':', '\n', '\t', '\u0001', '\u001f', 'é', '你', '😀', '\u2028', 'x\\"', '\\\\"'];
const KEY_ALPHABET = ['a', 'b', 'c', 'm', 'o', 'd', 'e', 'l', '_', '-', '"', '\\', 'é', ' ', '1'];

/** What a serialisation reads as: its bytes decoded, or the string it is. */
function textOf(output: string | Uint8Array): string {
  return typeof output === 'string' ? output : new TextDecoder().decode(output);
}

/** A source of a JSON text, as the body parser makes one: the text's UTF-8 bytes. */
function sourceOf(text: string, values: Record<string, unknown>): JsonSource {
  return { bytes: Buffer.from(text), values };
}

/** One random change of a copied body, as an adapter might make it. */
function mutate(writer: JsonWriter, body: Record<string, unknown>, values: Record<string, unknown>): void {
  const keys = Object.keys(body);
  const key = keys.length > 0 && writer.chance(0.8) ? writer.pick(keys) : `added-${Math.floor(writer.random() * 1000)}`;
  const current = values[key];
  switch (writer.pick(['replace', 'copy', 'delete', 'undefined', 'nested', 'primitive'])) {
    case 'replace':
      body[key] = JSON.parse(writer.value(1));
      break;
    case 'copy':
      // Equal but not identical: serialised again, with the same result.
      body[key] = structuredClone(current);
      break;
    case 'delete':
      delete body[key];
      break;
    case 'undefined':
      body[key] = undefined;
      break;
    case 'nested':
      body[key] = current !== null && typeof current === 'object' && !Array.isArray(current) ? { ...current, include_usage: true } : [current];
      break;
    default:
      body[key] = writer.pick([true, false, null, 0, -1, 2.5, 'text', 'caf\u00e9']);
  }
}

describe('serializeWithSource', () => {
  it('serialises like JSON.stringify and copies every unchanged member with an ASCII key as written (generated bodies)', () => {
    const random = seededRandom(20_261_203);
    const writer = new JsonWriter(random);
    let copied = 0;
    let serialised = 0;
    for (let round = 0; round < 3000; round += 1) {
      const { text: objectText, members } = writer.object(0);
      const text = writer.whitespace() + objectText + writer.whitespace();
      const values = JSON.parse(text) as Record<string, unknown>;
      const source = sourceOf(text, values);
      const body: Record<string, unknown> = { ...values };
      const changes = Math.floor(random() * 4);
      for (let change = 0; change < changes; change += 1) mutate(writer, body, values);

      // The expected text, built independently: the generator's own member text, or JSON.stringify.
      const expected: string[] = [];
      for (const key of Object.keys(body)) {
        const value = body[key];
        // A key outside ASCII is serialised again (see `memberSpans`), like a changed member.
        if (value !== undefined && value === values[key] && isAscii(key)) {
          expected.push(members.get(key)!);
          copied += 1;
        } else if (value !== undefined) {
          expected.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
          serialised += 1;
        }
      }
      const serialisation = serializeWithSource(body, source);
      // A source that scans gives bytes, which the HTTP client sends as they are.
      expect(serialisation).toBeInstanceOf(Uint8Array);
      const output = textOf(serialisation);
      expect(output, `round ${round}: ${text}`).toBe(`{${expected.join(',')}}`);
      // The same value as JSON.stringify gives, keys in the same order.
      expect(JSON.stringify(JSON.parse(output)), `round ${round}: ${text}`).toBe(JSON.stringify(body));
      // A second use of the same source (a retry) reads the cached spans and gives the same text.
      expect(textOf(serializeWithSource(body, source))).toBe(output);
    }
    // The generator exercised both paths plentifully.
    expect(copied).toBeGreaterThan(5000);
    expect(serialised).toBeGreaterThan(1000);
  });

  it('keeps an unchanged member byte for byte: number spellings, escapes and whitespace', () => {
    const text = '{ "model" : "openai/gpt-4o", "temperature": 1.0, "top_p":1E0, "user":"caf\\u00e9 \\/ \\"x\\"", "messages":[ {"role":"user","content":"h\\u00e9"} ] }';
    const values = JSON.parse(text) as Record<string, unknown>;
    const body = { ...values, model: 'gpt-4o' };
    expect(textOf(serializeWithSource(body, sourceOf(text, values)))).toBe(
      '{"model":"gpt-4o","temperature": 1.0,"top_p":1E0,"user":"caf\\u00e9 \\/ \\"x\\"","messages":[ {"role":"user","content":"h\\u00e9"} ]}',
    );
  });

  it('serialises a changed nested object again, and added and removed keys like JSON.stringify', () => {
    const text = '{"stream":true,"stream_options":{ "include_usage" : false, "x" : 1.0 },"fallbacks":["a/b"],"n":1}';
    const values = JSON.parse(text) as Record<string, unknown>;
    const { fallbacks: _fallbacks, ...rest } = values;
    const body: Record<string, unknown> = { ...rest, stream_options: { ...(values.stream_options as object), include_usage: true }, seed: 7, skipped: undefined };
    expect(textOf(serializeWithSource(body, sourceOf(text, values)))).toBe('{"stream":true,"stream_options":{"include_usage":true,"x":1},"n":1,"seed":7}');
  });

  it('takes the last of repeated keys, whose value JSON.parse kept', () => {
    const text = '{"a":1.0,"b":[],"a":2.0}';
    const values = JSON.parse(text) as Record<string, unknown>;
    expect(textOf(serializeWithSource({ ...values }, sourceOf(text, values)))).toBe('{"a":2.0,"b":[]}');
  });

  it('serialises an equal primitive from the text too, and a key the text lacks with JSON.stringify', () => {
    const text = '{"stream":true,"n":2.0}';
    const values = JSON.parse(text) as Record<string, unknown>;
    expect(textOf(serializeWithSource({ n: 2, stream: true, model: 'm' }, sourceOf(text, values)))).toBe('{"n":2.0,"stream":true,"model":"m"}');
  });

  it('never copies a member for a value the validated body left out, even when the text has it', () => {
    // A validator that stripped `extra` leaves values without it; an undefined body value must stay out.
    const source = sourceOf('{"a":1,"extra":2}', { a: 1 });
    expect(textOf(serializeWithSource({ a: 1, extra: undefined }, source))).toBe('{"a":1}');
  });

  it('falls back to JSON.stringify without a source, for a text that is not an object, and for a body with toJSON', () => {
    const body = { a: 1.5, b: 'x' };
    expect(serializeWithSource(body, undefined)).toBe(JSON.stringify(body));
    expect(serializeWithSource(body, sourceOf('[1.5]', body))).toBe(JSON.stringify(body));
    expect(serializeWithSource(body, sourceOf('{"a":1.5', body))).toBe(JSON.stringify(body));
    const custom = { a: 1, toJSON: () => ({ replaced: true }) };
    expect(serializeWithSource(custom, sourceOf('{"a":1}', { a: 1 }))).toBe('{"replaced":true}');
  });

  it('leaves out functions and symbols like JSON.stringify, and serialises an empty body', () => {
    const source = sourceOf('{}', {});
    expect(textOf(serializeWithSource({ f: () => 1, s: Symbol('s') }, source))).toBe('{}');
    expect(textOf(serializeWithSource({}, source))).toBe('{}');
  });

  it('copies members by their bytes after characters of two, three and four bytes', () => {
    const text = '{"a":"é 你好 😀","b" : [1.0, "ü"],"c":"\\u00e9"}';
    const values = JSON.parse(text) as Record<string, unknown>;
    const output = serializeWithSource({ c: values.c, model: 'é', b: values.b, a: values.a }, sourceOf(text, values));
    expect(textOf(output)).toBe('{"c":"\\u00e9","model":"é","b" : [1.0, "ü"],"a":"é 你好 😀"}');
  });

  it('never takes a member for a key that reads like another key as bytes: keys outside ASCII are serialised again', () => {
    // "é" is the bytes C3 A9, which read one character a byte are "Ã©": the second key, spelled differently.
    const text = '{"é":1.5,"Ã©":2.50}';
    const values = JSON.parse(text) as Record<string, unknown>;
    const output = textOf(serializeWithSource({ ...values }, sourceOf(text, values)));
    expect(output).toBe('{"é":1.5,"Ã©":2.5}');
    expect(JSON.parse(output)).toEqual(values);
  });
});
