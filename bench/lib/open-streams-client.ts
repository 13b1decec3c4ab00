/**
 * Many streams open at once (bench/open-streams.ts): the load generator keeps `streams` requests streaming, each on
 * a connection of its own, and times every stamped chunk from the mock's write to its arrival here. The mock and this
 * process read the same monotonic clock (`process.hrtime.bigint()`), so the difference is the chunk's whole trip:
 * the mock's socket, the gateway's relay, and this process's own turn to read it.
 */
import { Pool } from 'undici';
import { requestOptions } from './latency-client.js';
import type { OpenStreamsJob, OpenStreamsResult } from './load-jobs.js';
import { distribution } from './stats.js';

const now = () => process.hrtime.bigint();
/** Where a stamp starts: an OpenAI chunk's content, or the text of an Anthropic `text_delta` (Tollgate's /v1/messages). */
const STAMP_MARKS = ['"content":"@', '"text":"@'];
const EVENT_END = '\n\n';
/** The end of an OpenAI stream, and of an Anthropic one. */
const ENDS = ['data: [DONE]', 'event: message_stop'];

/**
 * Reads a stream's events as they arrive, recording each stamped chunk's trip and the first bytes' wait since `sent`
 * (ms); true when the stream's end marker came.
 */
export async function readStream(body: AsyncIterable<Buffer>, sent: bigint, deliveries: number[], firstBytes: number[]): Promise<boolean> {
  let pending = '';
  let done = false;
  let first = true;
  for await (const part of body) {
    const arrived = now();
    if (first) {
      firstBytes.push(Number(arrived - sent) / 1e6);
      first = false;
    }
    pending += part.toString('utf8');
    // Only whole events: a stamp cut between two reads is read once its event is complete.
    const complete = pending.lastIndexOf(EVENT_END);
    if (complete < 0) continue;
    const events = pending.slice(0, complete);
    pending = pending.slice(complete + EVENT_END.length);
    for (const mark of STAMP_MARKS) {
      let at = events.indexOf(mark);
      while (at >= 0) {
        const start = at + mark.length;
        const end = events.indexOf('"', start);
        deliveries.push(Number(arrived - BigInt(events.slice(start, end))) / 1e6);
        at = events.indexOf(mark, end);
      }
    }
    if (ENDS.some((end) => events.includes(end))) done = true;
  }
  return done;
}

/** Keeps `job.streams` streams open for `job.durationS`, each started again as soon as it ends. */
export async function runOpenStreams(job: OpenStreamsJob): Promise<OpenStreamsResult> {
  const { origin, options } = requestOptions(job.target);
  const pool = new Pool(origin, { connections: job.streams, pipelining: 1, keepAliveTimeout: 60_000, bodyTimeout: 60_000, headersTimeout: 60_000 });
  const deliveries: number[] = [];
  const firstBytes: number[] = [];
  let completed = 0;
  let failures = 0;
  const began = now();
  const deadline = began + BigInt(Math.round(job.durationS * 1e9));
  const lane = async (index: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, (job.spreadMs * index) / job.streams));
    while (now() < deadline) {
      try {
        const sent = now();
        const response = await pool.request(options);
        const done = await readStream(response.body as AsyncIterable<Buffer>, sent, deliveries, firstBytes);
        if (response.statusCode === 200 && done) completed += 1;
        else failures += 1;
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: job.streams }, (_, index) => lane(index)));
  await pool.close();
  return {
    kind: 'open-streams',
    completed,
    failures,
    seconds: Number(now() - began) / 1e9,
    chunks: deliveries.length,
    deliveryMs: distribution(deliveries),
    firstByteMs: distribution(firstBytes),
  };
}
