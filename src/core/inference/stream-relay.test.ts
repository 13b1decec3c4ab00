import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../../test/support/json-fuzz.js';
import { ids, lineDecoder, relayOf, upstreamStep } from '../../../test/support/stream-relay-fixtures.js';
import { Cancellation } from '../../spec/cancellation.js';
import type { ChatCompletionChunk } from '../../spec/openai.js';
import type { StreamEvent } from '../../spec/provider.js';
import type { RelayEvent, RelayReader, StreamRelay } from './stream-relay.js';

async function collect(relay: StreamRelay): Promise<string[][]> {
  const batches: string[][] = [];
  for await (const batch of relay) batches.push(ids(batch));
  return batches;
}

describe('StreamRelay', () => {
  it('hands over what each upstream read decodes to as one batch, then closes once at the end', async () => {
    const { relay, body, closes, discarded } = relayOf();
    const reading = collect(relay);
    body.push(Buffer.from('a\nb\n'));
    body.push(Buffer.from('c\n'));
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    body.push(Buffer.from('d\n'));
    body.end();
    expect(await reading).toEqual([['a', 'b', 'c'], ['d']]);
    expect(closes).toEqual([{ status: 200, errorCode: undefined }]);
    expect(discarded()).toBe(1);
  });

  it('reads on without a batch while the bytes complete no event, and gives the decoder its end', async () => {
    const decoder = lineDecoder();
    const { relay, body } = relayOf({ decoder });
    const reading = collect(relay);
    body.push(Buffer.from('par'));
    await new Promise((resolve) => setImmediate(resolve));
    body.push(Buffer.from('tial'));
    await new Promise((resolve) => setImmediate(resolve));
    body.end();
    expect(await reading).toEqual([['partial']]);
    expect(decoder.finished).toBe(1);
  });

  it('ends with the error event (redacted) and closes with its status, cutting what followed it in the batch', async () => {
    const { relay, body, closes, control } = relayOf();
    const reading = (async () => {
      const batches: RelayEvent[][] = [];
      for await (const batch of relay) batches.push(batch);
      return batches;
    })();
    body.push(Buffer.from('a\nerror:rate_limited\nb\n'));
    const batches = await reading;
    expect(batches.map(ids)).toEqual([['a', 'error:rate_limited']]);
    const error = batches[0]![1]!;
    expect(error.kind === 'error' && error.error.message).toBe('slow down, [redacted]');
    expect(closes).toEqual([{ status: 429, errorCode: 'rate_limited' }]);
    // The upstream was still sending: it is cut off.
    expect(control.aborted).toBe(true);
  });

  it('turns a failed transfer into one upstream_stream_broken event after what came before it', async () => {
    const { relay, body, closes } = relayOf();
    const reading = collect(relay);
    body.push(Buffer.from('a\n'));
    await new Promise((resolve) => setImmediate(resolve));
    body.fail(new Error('socket hang up'));
    expect(await reading).toEqual([['a'], ['error:upstream_stream_broken']]);
    expect(closes).toEqual([{ status: 504, errorCode: 'upstream_timeout' }]);
  });

  it('reports no error event when the transfer fails because the client left, and closes as a 499', async () => {
    const signal = new Cancellation();
    const { relay, body, closes } = relayOf({ signal });
    const reading = collect(relay);
    signal.abort();
    body.fail(new Error('aborted'));
    expect(await reading).toEqual([]);
    // The 499 itself is the service's `onClose` reading the signal; the relay records the transfer's own error.
    expect(closes).toHaveLength(1);
  });

  it('cuts off an upstream that sends more than maxPending bytes without completing an event', async () => {
    const { relay, body, closes, control } = relayOf({ maxPending: 10 });
    const reading = collect(relay);
    body.push(Buffer.from('0123456'));
    await new Promise((resolve) => setImmediate(resolve));
    body.push(Buffer.from('789abc'));
    expect(await reading).toEqual([['error:upstream_response_too_large']]);
    expect(closes).toEqual([{ status: 502, errorCode: 'upstream_response_too_large' }]);
    expect(control.aborted).toBe(true);
  });

  it('closes at once, aborting the upstream, when the route leaves the loop early', async () => {
    const { relay, body, closes, control } = relayOf();
    body.push(Buffer.from('a\nb\n'));
    for await (const batch of relay) {
      expect(ids(batch)).toEqual(['a', 'b']);
      break;
    }
    expect(closes).toHaveLength(1);
    expect(control.aborted).toBe(true);
    expect(await relay.next()).toEqual({ done: true, value: undefined });
    expect(closes).toHaveLength(1);
  });

  it('closes a relay the route never read from when it is returned', async () => {
    const { relay, closes, control } = relayOf();
    await relay.return();
    await relay.return();
    expect(closes).toHaveLength(1);
    expect(control.aborted).toBe(true);
  });

  it('stops after a batch when the route recorded a failure of its own while writing it', async () => {
    const { relay, body, ending, closes } = relayOf();
    body.push(Buffer.from('a\n'));
    const first = await relay.next();
    expect(first.done).toBe(false);
    ending.status = 502;
    ending.errorCode = 'upstream_stream_error';
    body.push(Buffer.from('b\n'));
    expect(await relay.next()).toEqual({ done: true, value: undefined });
    expect(closes).toEqual([{ status: 502, errorCode: 'upstream_stream_error' }]);
  });

  it('relays content-end and then the follow-up of a decoder that has one, once the body ended whole', async () => {
    const followUp: StreamEvent[] = [{ kind: 'chunk', chunk: { id: 'usage' } as unknown as ChatCompletionChunk }];
    let asked = 0;
    const { relay, body, closes } = relayOf({
      decoder: lineDecoder(async () => {
        asked += 1;
        return followUp;
      }),
    });
    const reading = collect(relay);
    body.push(Buffer.from('a\n'));
    body.end();
    expect(await reading).toEqual([['a'], ['content-end'], ['usage']]);
    expect(asked).toBe(1);
    expect(closes).toHaveLength(1);
  });

  it('skips the follow-up after an error event, and relays no events when the follow-up fails', async () => {
    let asked = 0;
    const failing = async (): Promise<StreamEvent[]> => {
      asked += 1;
      throw new Error('follow-up failed');
    };
    const errored = relayOf({ decoder: lineDecoder(failing) });
    const first = collect(errored.relay);
    errored.body.push(Buffer.from('error:overloaded\n'));
    errored.body.end();
    expect(await first).toEqual([['error:overloaded']]);
    expect(asked).toBe(0);

    const whole = relayOf({ decoder: lineDecoder(failing) });
    const second = collect(whole.relay);
    whole.body.push(Buffer.from('a\n'));
    whole.body.end();
    expect(await second).toEqual([['a'], ['content-end']]);
    expect(asked).toBe(1);
    expect(whole.closes).toEqual([{ status: 200, errorCode: undefined }]);
  });

  it('rejects a second read while one waits, and answers a waiting read with the end when returned', async () => {
    const { relay, closes } = relayOf();
    const waiting = relay.next();
    await expect(relay.next()).rejects.toThrow('one read at a time');
    await relay.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(closes).toHaveLength(1);
  });

  it('rejects the waiting read with a failure of onClose rather than losing it', async () => {
    const { relay, body } = relayOf({
      onClose: () => {
        throw new Error('settle broke');
      },
    });
    const reading = relay.next();
    body.end();
    await expect(reading).rejects.toThrow('settle broke');
  });

  describe('read by callback', () => {
    /** A reader that records what it was told, in order. */
    function recorder() {
      const told: string[] = [];
      const reader: RelayReader = {
        relayBatch: (events) => told.push(ids(events).join(',')),
        relayEnd: () => told.push('end'),
        relayFailed: (error) => told.push(`failed:${(error as Error).message}`),
      };
      return { told, reader };
    }

    it('answers before read returns when a batch is ready, and from the upstream callback when it is not', async () => {
      const { relay, body } = relayOf();
      const { told, reader } = recorder();
      body.push(Buffer.from('a\nb\n'));
      await Promise.resolve();
      relay.read(reader);
      expect(told).toEqual(['a,b']);
      relay.read(reader);
      expect(told).toEqual(['a,b']);
      expect(() => relay.read(reader)).toThrow('one read at a time');
      body.push(Buffer.from('c\n'));
      expect(told).toEqual(['a,b']);
      await Promise.resolve();
      expect(told).toEqual(['a,b', 'c']);
    });

    it('answers the end at once when the body ended in the read that brought the last batch', async () => {
      const { relay, body, closes } = relayOf();
      const { told, reader } = recorder();
      body.push(Buffer.from('a\n'));
      body.end();
      await Promise.resolve();
      relay.read(reader);
      relay.read(reader);
      expect(told).toEqual(['a', 'end']);
      expect(closes).toHaveLength(1);
      relay.read(reader);
      expect(told).toEqual(['a', 'end', 'end']);
    });

    it('answers a waiting read with the end when stopped, closing once, and reports a failure to close', () => {
      const stopped = relayOf();
      const first = recorder();
      stopped.relay.read(first.reader);
      expect(stopped.relay.stop()).toBeUndefined();
      expect(stopped.relay.stop()).toBeUndefined();
      expect(first.told).toEqual(['end']);
      expect(stopped.closes).toHaveLength(1);
      expect(stopped.discarded()).toBe(1);

      const broken = relayOf({
        onClose: () => {
          throw new Error('settle broke');
        },
      });
      const second = recorder();
      broken.relay.read(second.reader);
      expect(broken.relay.stop()).toEqual({ error: new Error('settle broke') });
      expect(second.told).toEqual(['failed:settle broke']);
    });
  });

  // Random schedules of what an upstream and a route can do, with the invariants any schedule must keep: the loop
  // ends, the stream closes exactly once, no batch is empty, nothing follows an error event, and the chunks arrive
  // complete and in order. The seed of a failing schedule is in the test's name.
  for (let seed = 1; seed <= 300; seed += 1) {
    it(`keeps its invariants whatever the upstream and the route do (schedule ${seed})`, async () => {
      await randomSchedule(seededRandom(seed));
    });
  }
});

/** Lets the event loop turn: microtasks, then the immediates queued before. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function randomSchedule(random: Random): Promise<void> {
  const signal = new Cancellation();
  const withFollowUp = random.chance(0.2);
  const decoder = lineDecoder(withFollowUp ? async () => [{ kind: 'chunk', chunk: { id: 'follow-up' } as unknown as ChatCompletionChunk }] : undefined);
  const { relay, body, ending, closes, discarded } = relayOf({ decoder, signal, maxPending: 40 });
  let sent = '';
  const breakAfter = random.chance(0.3) ? random.below(4) : Number.POSITIVE_INFINITY;
  const failAfter = random.chance(0.15) ? random.below(4) : Number.POSITIVE_INFINITY;
  const batches: RelayEvent[][] = [];
  const reading = (async () => {
    for await (const batch of relay) {
      batches.push(batch);
      if (batches.length === failAfter + 1) {
        ending.status = 502;
        ending.errorCode = 'unreadable_chunk';
      }
      if (random.chance(0.3)) await turn();
      if (batches.length > breakAfter) break;
    }
  })();
  let open = true;
  for (let step = 0; step < 12 && open; step += 1) {
    // 0–7: the upstream (see upstreamStep); 8: a turn of the event loop; 9: sometimes the client leaves.
    const action = random.below(10);
    const upstream = upstreamStep(random, body, action, step);
    sent += upstream.sent;
    if (upstream.ended) open = false;
    else if (action === 8) await turn();
    else if (action === 9 && random.chance(0.3)) signal.abort();
    if (random.chance(0.5)) await turn();
  }
  if (open) body.end();
  for (let turns = 0; turns < 20; turns += 1) await turn();
  let finished = false;
  void reading.then(() => {
    finished = true;
  });
  await turn();

  expect(finished).toBe(true);
  expect(closes).toHaveLength(1);
  expect(discarded()).toBe(1);
  const events = batches.flat();
  for (const batch of batches) expect(batch.length).toBeGreaterThan(0);
  const errorAt = events.findIndex((event) => event.kind === 'error');
  if (errorAt >= 0) {
    expect(errorAt).toBe(events.length - 1);
    expect(closes[0]!.errorCode).toBeDefined();
  }
  // The chunks that reached the route are the beginning of the lines sent, in order (an error, a line too long or
  // the route leaving may cut them short); the last may be one the body ended in the middle of.
  const relayed = events.flatMap((event) => (event.kind === 'chunk' && event.chunk.id !== 'follow-up' ? [event.chunk.id] : []));
  expect(sent.split('\n').slice(0, relayed.length)).toEqual(relayed);
}
