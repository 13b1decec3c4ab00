import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../../test/support/json-fuzz.js';
import { RecordingResponse } from '../../../test/support/recording-response.js';
import { ids, lineDecoder, relayOf, upstreamStep } from '../../../test/support/stream-relay-fixtures.js';
import { Cancellation } from '../../spec/cancellation.js';
import type { RelayEvent } from '../../core/inference/stream-relay.js';
import { pumpRelay, type BatchWriter } from './pump-relay.js';
import { SseWriter } from './sse-writer.js';

/** A stream relayed to a recorded response; the batch writer writes each event's id on a line of its own. */
function pumped(options: { writeBatch?: BatchWriter; onClose?: () => void } = {}) {
  const parts = relayOf(options.onClose ? { onClose: options.onClose } : {});
  const response = new RecordingResponse();
  const writer = new SseWriter(response as unknown as ServerResponse);
  writer.open({});
  const writeBatch: BatchWriter =
    options.writeBatch ??
    ((events) => {
      for (const id of ids(events)) writer.write(`${id}\n`);
      return true;
    });
  let settled: string | undefined;
  const pumping = pumpRelay(parts.relay, writer, writeBatch).then(
    () => {
      settled = 'resolved';
    },
    (error: unknown) => {
      settled = `rejected: ${(error as Error).message}`;
    },
  );
  return { ...parts, response, writer, pumping, settled: () => settled };
}

/** Lets the microtasks queued so far run (the body wakes its reader from one). */
function microtasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('pumpRelay', () => {
  it('sends what each upstream read brings in one write, once the relay waits for the next', async () => {
    const { body, response, writer, pumping, closes } = pumped();
    expect(response.sent()).toEqual(['flushHeaders']);
    body.push(Buffer.from('a\nb'));
    body.push(Buffer.from('\nc\n'));
    await microtasks();
    expect(response.sent()).toEqual(['flushHeaders', 'write:a\nb\nc\n']);
    body.push(Buffer.from('d\n'));
    await microtasks();
    expect(response.sent()).toEqual(['flushHeaders', 'write:a\nb\nc\n', 'write:d\n']);
    body.end();
    await pumping;
    writer.end('done\n');
    expect(response.sent()).toEqual(['flushHeaders', 'write:a\nb\nc\n', 'write:d\n', 'end:done\n']);
    expect(closes).toEqual([{ status: 200, errorCode: undefined }]);
  });

  it('leaves a stream that arrived whole, end included, to the route end in one write with the headers', async () => {
    const parts = relayOf();
    parts.body.push(Buffer.from('a\n'));
    parts.body.push(Buffer.from('b\n'));
    parts.body.end();
    const response = new RecordingResponse();
    const writer = new SseWriter(response as unknown as ServerResponse);
    writer.open({});
    await pumpRelay(parts.relay, writer, (events) => {
      for (const id of ids(events)) writer.write(`${id}\n`);
      return true;
    });
    expect(response.sent()).toEqual([]);
    writer.end('[DONE]\n');
    expect(response.sent()).toEqual(['end:a\nb\n[DONE]\n']);
  });

  it('stops the stream, releasing the upstream, when the batch writer says so', async () => {
    const seen: string[][] = [];
    const { body, pumping, closes, control, settled } = pumped({
      writeBatch: (events) => {
        seen.push(ids(events));
        return seen.length < 2;
      },
    });
    body.push(Buffer.from('a\n'));
    await microtasks();
    body.push(Buffer.from('b\n'));
    await pumping;
    body.push(Buffer.from('c\n'));
    await microtasks();
    expect(settled()).toBe('resolved');
    expect(seen).toEqual([['a'], ['b']]);
    expect(closes).toHaveLength(1);
    expect(control.aborted).toBe(true);
  });

  it('rejects with what the batch writer threw, after closing the stream', async () => {
    const { body, pumping, closes, discarded, settled } = pumped({
      writeBatch: () => {
        throw new Error('encoder broke');
      },
    });
    body.push(Buffer.from('a\n'));
    await pumping;
    expect(settled()).toBe('rejected: encoder broke');
    expect(closes).toHaveLength(1);
    expect(discarded()).toBe(1);
  });

  it('rejects with a failure of the relay itself', async () => {
    const { body, pumping, settled } = pumped({
      onClose: () => {
        throw new Error('settle broke');
      },
    });
    body.end();
    await pumping;
    expect(settled()).toBe('rejected: settle broke');
  });

  it('reads the next batch only once a congested client has drained, and loses nothing', async () => {
    const { body, response, writer, pumping, control } = pumped();
    response.accepts = false;
    body.push(Buffer.from('a\n'));
    await microtasks();
    expect(writer.congested).toBe(true);
    body.push(Buffer.from('b\n'));
    await microtasks();
    body.push(Buffer.from('c\n'));
    await microtasks();
    // b was read and is held by the writer; c waits in the body, unread.
    expect(response.sent()).toEqual(['flushHeaders', 'write:a\n']);
    response.accepts = true;
    response.emit('drain');
    await microtasks();
    expect(response.sent()).toEqual(['flushHeaders', 'write:a\n', 'write:b\n', 'write:c\n']);
    expect(control.paused).toBe(false);
    body.end();
    await pumping;
  });

  // Random schedules of an upstream, a client that congests and drains, and a route that stops or fails part-way,
  // with what must hold whatever happens: the pump settles, the stream closes exactly once and releases the
  // upstream, and the client gets the events in order, each once, with no gap.
  for (let seed = 1; seed <= 200; seed += 1) {
    it(`keeps its invariants whatever the upstream, the client and the route do (schedule ${seed})`, async () => {
      await randomSchedule(seededRandom(seed));
    });
  }
});

async function randomSchedule(random: Random): Promise<void> {
  const signal = new Cancellation();
  const { relay, body, closes, discarded } = relayOf({ decoder: lineDecoder(), signal, maxPending: 40 });
  const response = new RecordingResponse();
  const writer = new SseWriter(response as unknown as ServerResponse);
  writer.open({});
  const stopAfter = random.chance(0.3) ? random.below(4) : Number.POSITIVE_INFINITY;
  const throwAfter = random.chance(0.1) ? random.below(4) : Number.POSITIVE_INFINITY;
  const batches: RelayEvent[][] = [];
  let settled = false;
  const pumping = pumpRelay(relay, writer, (events) => {
    batches.push(events);
    if (batches.length > throwAfter) throw new Error('route broke');
    for (const id of ids(events)) writer.write(`${id}\n`);
    return batches.length <= stopAfter;
  }).then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  let sent = '';
  let open = true;
  for (let step = 0; step < 14 && open; step += 1) {
    // 0–7: the upstream (see upstreamStep); 8: the client congests; 9: it drains; 10–11: sometimes it leaves.
    const action = random.below(12);
    const upstream = upstreamStep(random, body, action, step);
    sent += upstream.sent;
    if (upstream.ended) open = false;
    else if (action === 8) response.accepts = false;
    else if (action === 9) {
      response.accepts = true;
      response.emit('drain');
    } else if (action >= 10 && random.chance(0.2)) signal.abort();
    if (random.chance(0.6)) await microtasks();
  }
  if (open) body.end();
  response.accepts = true;
  response.emit('drain');
  for (let turns = 0; turns < 10; turns += 1) await microtasks();
  await Promise.race([pumping, microtasks()]);

  expect(settled).toBe(true);
  expect(closes).toHaveLength(1);
  expect(discarded()).toBe(1);
  writer.end('');
  const written = response
    .sent()
    .filter((call) => call !== 'flushHeaders' && call !== 'end')
    .map((call) => call.replace(/^(write|end):/, ''))
    .join('');
  // Every batch the route took reached the client, in order; the ids are a prefix of the upstream's lines (an
  // error, a line too long, the route stopping may cut them short; the last may be one the body ended inside).
  const taken = batches.slice(0, Math.min(batches.length, throwAfter)).flatMap(ids);
  expect(written).toBe(taken.map((id) => `${id}\n`).join(''));
  const chunks = taken.filter((id) => !id.startsWith('error:'));
  expect(sent.split('\n').slice(0, chunks.length)).toEqual(chunks);
}
