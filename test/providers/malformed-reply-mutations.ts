/**
 * The mutations the seeded fuzz of upstream replies makes of a family's valid reply or stream. Each draws from the
 * seeded random source in a fixed order, so a seed replays the same rounds.
 */
import type { RawReply } from '../mocks/mock-server.js';
import type { ReplyFamily } from './malformed-reply-families.js';
import { clone, json, mutateMember, oddValues, type Json } from './malformed-reply-support.js';
import type { ScriptedEvent } from './upstream-reply-fixtures.js';

/** Lines an SSE stream may hold that are no event a decoder expects, put between a stream's events. */
const garbageLines = ['garbage without a field\n\n', 'data: {not json\n\n', ': a comment\n\n', 'event: ping\n\n', 'data: [1,2]\n\n', 'data: null\n\n', 'data: "text"\n\n', 'data:\n\n', 'retry: 10\n\n', '\u0000\u0001\n\n'];

/** A stream mutated one way: an event's data changed, events dropped or duplicated, garbage, a cut. */
export function mutateStream(target: ReplyFamily, random: () => number): { reply: RawReply; description: string } {
  const events = clone(target.stream as unknown as Json) as unknown as ScriptedEvent[];
  const roll = random();
  const at = Math.floor(random() * events.length);
  if (roll < 0.55) {
    const event = events[at]!;
    if (typeof event.data === 'object' && event.data !== null && random() < 0.85) {
      const description = mutateMember(event.data, random);
      return { reply: { raw: target.encodeStream(events) }, description: `event ${at}: ${description}` };
    }
    event.data = clone(oddValues[Math.floor(random() * oddValues.length)]!);
    return { reply: { raw: target.encodeStream(events) }, description: `event ${at} data = ${JSON.stringify(event.data)}` };
  }
  if (roll < 0.65) {
    events.splice(at, 1);
    return { reply: { raw: target.encodeStream(events) }, description: `dropped event ${at}` };
  }
  if (roll < 0.7) {
    events.splice(at, 0, clone(events[at] as unknown as Json) as unknown as ScriptedEvent);
    return { reply: { raw: target.encodeStream(events) }, description: `duplicated event ${at}` };
  }
  const encoded = target.encodeStream(events);
  const bytes = typeof encoded === 'string' ? Buffer.from(encoded) : Buffer.from(encoded);
  const position = Math.floor(random() * bytes.length);
  if (roll < 0.8) return { reply: { raw: bytes.subarray(0, position) }, description: `cut short at byte ${position}` };
  if (roll < 0.85) return { reply: { raw: bytes.subarray(0, position), cut: true }, description: `connection broken at byte ${position}` };
  if (target.name === 'bedrock' || roll < 0.92) {
    const flipped = Buffer.from(bytes);
    flipped[position] = flipped[position]! ^ (1 + Math.floor(random() * 255));
    return { reply: { raw: flipped }, description: `byte ${position} flipped` };
  }
  const garbage = garbageLines[Math.floor(random() * garbageLines.length)]!;
  const blocks = bytes.toString('utf8').split(/(?<=\n\n|\r\n\r\n)/);
  blocks.splice(at, 0, garbage);
  return { reply: { raw: blocks.join('') }, description: `garbage ${JSON.stringify(garbage)} before event ${at}` };
}

/** A non-streamed reply mutated one way: members changed or deleted, or its text cut short. */
export function mutateCompletion(target: ReplyFamily, random: () => number): { reply: RawReply; description: string } {
  const body = clone(target.completion);
  const roll = random();
  if (roll < 0.12) {
    const text = JSON.stringify(body);
    const position = Math.floor(random() * text.length);
    return { reply: { raw: text.slice(0, position) }, description: `cut short at ${position}` };
  }
  const descriptions: string[] = [];
  for (let change = 0; change < 1 + Math.floor(random() * 2); change += 1) descriptions.push(mutateMember(body, random));
  return { reply: json(body), description: descriptions.join('; ') };
}
