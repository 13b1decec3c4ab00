import { describe, expect, it } from 'vitest';
import { createSseReader, type EventSourceMessage } from './sse-reader.js';

describe('createSseReader', () => {
  it('hands over whole events whatever the byte boundaries, multi-byte characters included', () => {
    const events: EventSourceMessage[] = [];
    const reader = createSseReader((event) => events.push(event));
    const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"héllo — 你好"}\n\ndata: second\n\n');
    for (let index = 0; index < bytes.length; index += 3) reader.feed(bytes.subarray(index, index + 3));
    reader.end();
    expect(events.map((event) => [event.event, event.data])).toEqual([
      ['delta', '{"text":"héllo — 你好"}'],
      [undefined, 'second'],
    ]);
  });

  it('counts a last event without its closing blank line at the end, and only then', () => {
    const events: string[] = [];
    const reader = createSseReader((event) => events.push(event.data));
    reader.feed(new TextEncoder().encode('data: first\n\ndata: last'));
    expect(events).toEqual(['first']);
    reader.end();
    expect(events).toEqual(['first', 'last']);
  });

  it('reads every byte split as UTF-8, and what is not UTF-8 as replacement characters, a cut character at the end included', () => {
    const text = 'data: ñ€𝄞 done\n\n';
    const bytes = new TextEncoder().encode(text);
    for (let size = 1; size <= 4; size++) {
      const events: string[] = [];
      const reader = createSseReader((event) => events.push(event.data));
      for (let index = 0; index < bytes.length; index += size) reader.feed(bytes.subarray(index, index + size));
      reader.end();
      expect(events).toEqual(['ñ€𝄞 done']);
    }
    const events: string[] = [];
    const reader = createSseReader((event) => events.push(event.data));
    // A lone continuation byte inside, and the first two bytes of a three-byte character at the very end.
    reader.feed(Uint8Array.from([...new TextEncoder().encode('data: a'), 0x80, ...new TextEncoder().encode('b\n\ndata: c'), 0xe2, 0x82]));
    reader.end();
    expect(events).toEqual(['a\ufffdb', 'c\ufffd']);
  });
});
