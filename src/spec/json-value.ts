/**
 * Tests of parsed JSON values, for code that reads what another party wrote (an upstream's reply, a client's body)
 * and must not trust its types.
 */

/** A JSON object: not null, not a list. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A member left out or sent as null: the two mean the same in the formats Tollgate reads. */
export function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/** A member that is absent (see {@link isAbsent}) or text. */
export function isAbsentOrText(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === 'string';
}

/** True for a whole number from 0 up, as JSON carries counts and indexes. */
export function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Whether each named member of a usage report is a count where it is given (absent and null count as not given). */
export function areCountsWhereGiven(usage: Record<string, unknown>, members: readonly string[]): boolean {
  return members.every((member) => usage[member] === undefined || usage[member] === null || isWholeNumber(usage[member]));
}
