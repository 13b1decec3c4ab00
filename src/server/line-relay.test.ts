import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relayLines } from './line-relay.js';

describe('relayLines', () => {
  it('passes on whole lines only, however the reads split them, and ends a last unfinished line', async () => {
    const source = new PassThrough();
    const writes: string[] = [];
    // Decoded only here, to compare: the relay hands on bytes.
    const relayed = relayLines(source, (lines) => writes.push(lines.toString('utf8')));
    source.write('{"a":1}\n{"b"');
    source.write(':2}\n{"c":3}\n{"d":');
    source.write('4}');
    source.end();
    await relayed;
    expect(writes).toEqual(['{"a":1}\n', '{"b":2}\n{"c":3}\n', '{"d":4}\n']);
    for (const text of writes) expect(text.endsWith('\n')).toBe(true);
  });

  it('joins a UTF-8 character split between two reads, handing on whole lines only', async () => {
    const source = new PassThrough();
    const writes: Buffer[] = [];
    const relayed = relayLines(source, (lines) => writes.push(Buffer.from(lines)));
    const bytes = Buffer.from('{"model":"é€😀"}\n', 'utf8');
    // Split inside the euro sign's three bytes and again inside the emoji's four.
    const euro = bytes.indexOf(0xe2);
    const emoji = bytes.indexOf(0xf0);
    source.write(bytes.subarray(0, euro + 1));
    source.write(bytes.subarray(euro + 1, emoji + 2));
    source.write(bytes.subarray(emoji + 2));
    source.end();
    await relayed;
    expect(Buffer.concat(writes).toString('utf8')).toBe('{"model":"é€😀"}\n');
    for (const lines of writes) expect(lines.at(-1)).toBe(0x0a);
  });

  it('passes on a line that stays unfinished past 1 MiB over many reads, then relays the next lines whole', async () => {
    const source = new PassThrough();
    const writes: Buffer[] = [];
    const relayed = relayLines(source, (lines) => writes.push(Buffer.from(lines)));
    const part = Buffer.alloc(64 * 1024, 0x61);
    for (let index = 0; index < 17; index += 1) source.write(part);
    source.write('b\n{"next":1}\n');
    source.end();
    await relayed;
    // The held line goes once it passes 1 MiB (ended with a newline); its rest arrives as a line of its own.
    expect(writes.map((lines) => lines.length)).toEqual([17 * part.length + 1, 13]);
    expect(writes[0]!.subarray(0, -1).every((byte) => byte === 0x61)).toBe(true);
    expect(writes[0]!.at(-1)).toBe(0x0a);
    expect(writes[1]!.toString('utf8')).toBe('b\n{"next":1}\n');
  });

  it('resolves when the source is destroyed, after passing on what it delivered', async () => {
    const source = new PassThrough();
    const writes: string[] = [];
    const relayed = relayLines(source, (lines) => writes.push(lines.toString('utf8')));
    source.write('one\ntw');
    await new Promise((resolve) => setImmediate(resolve));
    source.destroy();
    await relayed;
    expect(writes).toEqual(['one\n', 'tw\n']);
  });
});
