import { describe, expect, it } from 'vitest';
import { arrayElementSpans, memberSpans, memberValueText, objectMemberSpans, scanMemberSpans, type JsonSource } from './json-source.js';

/** The text of each member, by key, as the scanner found it. */
function members(text: string): Record<string, string> | null {
  const spans = scanMemberSpans(text);
  if (spans === null) return null;
  return Object.fromEntries([...spans].map(([key, span]) => [key, text.slice(span.start, span.end)]));
}

describe('scanMemberSpans', () => {
  it('finds each top-level member from its key to the end of its value', () => {
    expect(members('{"model":"gpt","n":1,"stream":true,"stop":null,"messages":[{"role":"user","content":"hi"}],"options":{"a":[1,{"b":2}]}}')).toEqual({
      model: '"model":"gpt"',
      n: '"n":1',
      stream: '"stream":true',
      stop: '"stop":null',
      messages: '"messages":[{"role":"user","content":"hi"}]',
      options: '"options":{"a":[1,{"b":2}]}',
    });
  });

  it('tolerates whitespace everywhere JSON allows it and keeps it inside a member', () => {
    expect(members(' \r\n\t{ "a" :\t-1.5e+3 ,\n"b":[ 1 , 2 ]\r\n, "c" : { } } \n')).toEqual({
      a: '"a" :\t-1.5e+3',
      b: '"b":[ 1 , 2 ]',
      c: '"c" : { }',
    });
  });

  it('is not fooled by quotes, backslashes, brackets and commas inside strings', () => {
    const text = String.raw`{"a":"x\"}]\\","b":["\\\"[{", "\\\\"],"c":{"k\"}":"]"},"d":"\\"}`;
    expect(members(text)).toEqual({
      a: String.raw`"a":"x\"}]\\"`,
      b: String.raw`"b":["\\\"[{", "\\\\"]`,
      c: String.raw`"c":{"k\"}":"]"}`,
      d: String.raw`"d":"\\"`,
    });
    // The spans cut the text into members that parse back to the same values.
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const [key, member] of Object.entries(members(text)!)) expect(JSON.parse(`{${member}}`)[key]).toEqual(parsed[key]);
  });

  it('decodes escaped keys and keeps the last of repeated keys, as JSON.parse does', () => {
    const text = '{"\\u006dodel":"first","a\\"b":1,"model":"second"}';
    expect(members(text)).toEqual({ model: '"model":"second"', 'a"b': '"a\\"b":1' });
    expect(JSON.parse(text).model).toBe('second');
  });

  it('scans an empty object', () => {
    expect(members('{}')).toEqual({});
    expect(members(' { \n } ')).toEqual({});
  });

  it('answers null for texts that are not a single object', () => {
    for (const text of ['[]', '"text"', '1', 'null', '', '{"a":1', '{"a" 1}', '{"a":1}}', '{"a":1} x', '{"a":"unterminated}', '{"a":[1,2}', '{a:1}', '{"a":1,}']) {
      expect(scanMemberSpans(text), text).toBeNull();
    }
  });
});

describe('memberSpans', () => {
  it('scans a source once and caches the spans on it', () => {
    const source: JsonSource = { bytes: Buffer.from('{"a":1}'), values: { a: 1 } };
    const first = memberSpans(source);
    expect(first?.get('a')).toEqual({ start: 1, end: 6 });
    expect(source.spans).toBe(first);
    expect(memberSpans(source)).toBe(first);
  });

  it('caches a failed scan as null', () => {
    const source: JsonSource = { bytes: Buffer.from('[1]'), values: {} };
    expect(memberSpans(source)).toBeNull();
    expect(source.spans).toBeNull();
  });
});

describe('arrayElementSpans, objectMemberSpans and memberValueText', () => {
  const text = String.raw`{ "data" : [ {"embedding": [0.5, -1e-3 ,2], "note": "]}\"[{"} , [1,[2]] ,"x\\" , 3 , null ] , "n":1}`;

  it('finds the elements of an array and the members of an object inside a larger text', () => {
    const top = scanMemberSpans(text)!;
    const data = memberValueText(text, top.get('data')!);
    expect(data).toBe(String.raw`[ {"embedding": [0.5, -1e-3 ,2], "note": "]}\"[{"} , [1,[2]] ,"x\\" , 3 , null ]`);
    const start = text.indexOf(data);
    const elements = arrayElementSpans(text, start)!;
    expect(elements.map((span) => text.slice(span.start, span.end))).toEqual([
      String.raw`{"embedding": [0.5, -1e-3 ,2], "note": "]}\"[{"}`,
      '[1,[2]]',
      String.raw`"x\\"`,
      '3',
      'null',
    ]);
    // Each element's text parses to the element JSON.parse gives.
    const parsed = JSON.parse(text).data as unknown[];
    expect(elements.map((span) => JSON.parse(text.slice(span.start, span.end)) as unknown)).toEqual(parsed);
    const members = objectMemberSpans(text, elements[0]!.start)!;
    expect(memberValueText(text, members.get('embedding')!)).toBe('[0.5, -1e-3 ,2]');
    expect(memberValueText(text, members.get('note')!)).toBe(String.raw`"]}\"[{"`);
    expect(memberValueText(text, top.get('n')!)).toBe('1');
  });

  it('scans empty containers, and answers null where no container of the kind begins', () => {
    expect(arrayElementSpans(' [ ] ', 0)).toEqual([]);
    expect(objectMemberSpans(' { } ', 0)).toEqual(new Map());
    expect(arrayElementSpans('{"a":1}', 0)).toBeNull();
    expect(objectMemberSpans('[1]', 0)).toBeNull();
    expect(arrayElementSpans('[1,2', 0)).toBeNull();
    expect(arrayElementSpans('[1 2]', 0)).toBeNull();
  });
});
