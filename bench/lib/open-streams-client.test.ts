import { describe, expect, it } from 'vitest';
import { readStream } from './open-streams-client.js';

/** A body that yields the given parts, as a socket might cut a stream. */
async function* parts(...texts: string[]): AsyncIterable<Buffer> {
  for (const text of texts) yield Buffer.from(text);
}

const chunk = (stamp: bigint) => `data: {"choices":[{"index":0,"delta":{"content":"@${stamp}"}}]}\n\n`;

describe('readStream (bench/open-streams.ts)', () => {
  it('times every stamped chunk once, also when a read cuts one in two, and sees the end', async () => {
    const now = process.hrtime.bigint();
    const first = chunk(now - 2_000_000n);
    const second = chunk(now - 1_000_000n);
    const deliveries: number[] = [];
    const firstBytes: number[] = [];
    const done = await readStream(parts(first + second.slice(0, 20), second.slice(20), 'data: [DONE]\n\n'), now - 3_000_000n, deliveries, firstBytes);
    expect(done).toBe(true);
    expect(deliveries).toHaveLength(2);
    // Each trip is at least the age of its stamp when the test started.
    expect(deliveries[0]).toBeGreaterThanOrEqual(2);
    expect(deliveries[1]).toBeGreaterThanOrEqual(1);
    expect(firstBytes).toHaveLength(1);
    expect(firstBytes[0]).toBeGreaterThanOrEqual(3);
  });

  it('reports a stream that never sent [DONE] as unfinished', async () => {
    const deliveries: number[] = [];
    expect(await readStream(parts(chunk(process.hrtime.bigint())), process.hrtime.bigint(), deliveries, [])).toBe(false);
    expect(deliveries).toHaveLength(1);
  });

  it("reads an Anthropic stream's text deltas and its message_stop", async () => {
    const stamp = process.hrtime.bigint();
    const deliveries: number[] = [];
    const delta = `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"@${stamp}"}}\n\n`;
    const done = await readStream(parts(delta, 'event: message_stop\ndata: {"type":"message_stop"}\n\n'), stamp, deliveries, []);
    expect(done).toBe(true);
    expect(deliveries).toHaveLength(1);
  });
});
