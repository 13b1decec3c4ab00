/**
 * Variants of a family's valid embedding reply: one member set to a chosen value, or the mutations the seeded fuzz
 * makes. The fuzz draws from the seeded random source in a fixed order, so a seed replays the same rounds.
 */
import type { RawReply } from '../mocks/mock-server.js';
import { first, type EmbeddingFamily, type Path } from './malformed-embedding-families.js';
import { clone, json, mutateMember, setAt, withRawNumber, type Json, type JsonObject } from './malformed-reply-support.js';

/** The family's valid reply with the member at `path` set to `value` (on a copy). */
export function withMember(target: EmbeddingFamily, path: Path, value: Json): JsonObject {
  const body = clone(target.valid);
  setAt(body, path, clone(value));
  return body;
}

/** A reply mutated one way: members changed or deleted (on a copy), or its text cut short. */
export function mutateReply(target: EmbeddingFamily, random: () => number): { reply: RawReply; description: string } {
  const body = clone(target.valid);
  const roll = random();
  if (roll < 0.1) {
    const text = JSON.stringify(body);
    const position = Math.floor(random() * text.length);
    return { reply: { raw: text.slice(0, position) }, description: `cut short at ${position}` };
  }
  if (roll < 0.25) {
    // A vector's component replaced: the mutation the generic one reaches least often.
    const path = target.vectorPaths[Math.floor(random() * target.vectorPaths.length)]!;
    const component = Math.floor(random() * first.length);
    const numbers = ['1e999', '-1e999', '1e39', '-3.5e38', '"0.5"', 'null', 'true', '[]', '{}', '1e-50', '0'];
    const number = numbers[Math.floor(random() * numbers.length)]!;
    return { reply: { raw: withRawNumber(body, [...path, component], number) }, description: `${[...path, component].join('.')} = ${number}` };
  }
  const descriptions: string[] = [];
  for (let change = 0; change < 1 + Math.floor(random() * 2); change += 1) descriptions.push(mutateMember(body, random));
  return { reply: json(body), description: descriptions.join('; ') };
}
