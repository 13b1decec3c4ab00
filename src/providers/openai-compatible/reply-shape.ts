/**
 * The members of an OpenAI completion or chunk that Tollgate reads (the /v1/messages conversion, Azure's
 * annotation filter, the usage-only check), checked for their types. A compatible upstream's reply is forwarded
 * mostly as it came, so only what some reader dereferences is checked: a `choices` entry that is not an object or a
 * `tool_calls` that is a number would otherwise surface as a TypeError deep in the core. Unknown members and members
 * of unknown shape elsewhere pass, as do nulls where a member may be absent.
 */
import { isAbsent, isRecord } from '../../spec/json-value.js';

// Index loops rather than `entries()`: these run on every reply, and an entries iterator allocates a pair per item.

/** Why the members Tollgate reads of a non-streamed completion are not of their types; undefined when they are. */
export function completionShapeProblem(record: Record<string, unknown>): string | undefined {
  return choicesProblem(record, 'message');
}

/** Why the members Tollgate reads of a streamed chunk are not of their types; undefined when they are. */
export function chunkShapeProblem(record: Record<string, unknown>): string | undefined {
  return choicesProblem(record, 'delta');
}

/**
 * Each choice's `message` (a completion's) or `delta` (a chunk's): an object whose content, when there, is text or
 * a list of parts (what some servers, Mistral's reasoning models, send instead of text), and whose tool calls pass
 * `toolCallsProblem`. A chunk's choice may come without a delta (Azure's annotation chunks); a completion's may not.
 */
function choicesProblem(record: Record<string, unknown>, member: 'message' | 'delta'): string | undefined {
  const choices = record.choices;
  if (!Array.isArray(choices)) return '"choices" is not a list';
  const fragments = member === 'delta';
  for (let index = 0; index < choices.length; index += 1) {
    const choice: unknown = choices[index];
    if (!isRecord(choice)) return `choices[${index}] is not an object`;
    const part = choice[member];
    if (fragments && isAbsent(part)) continue;
    if (!isRecord(part)) return `choices[${index}].${member} is not an object`;
    const content = part.content;
    if (!isAbsent(content) && typeof content !== 'string' && !Array.isArray(content)) return `choices[${index}].${member}.content is neither text nor a list`;
    const problem = toolCallsProblem(part.tool_calls, `choices[${index}].${member}.tool_calls`, fragments);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Tool calls: a list of objects. A function call (the `function` kind, or no kind at all) names its function in
 * text, and its arguments, when there, are text (a streamed fragment may leave the name out too). Calls of other
 * kinds (OpenAI's custom tools) pass as they are.
 */
function toolCallsProblem(value: unknown, where: string, fragments: boolean): string | undefined {
  if (isAbsent(value)) return undefined;
  if (!Array.isArray(value)) return `${where} is not a list`;
  for (let index = 0; index < value.length; index += 1) {
    const call: unknown = value[index];
    if (!isRecord(call)) return `${where}[${index}] is not an object`;
    if (fragments && !isAbsent(call.index) && !Number.isInteger(call.index)) return `${where}[${index}].index is not a whole number`;
    if (!isAbsent(call.type) && call.type !== 'function') continue;
    const called = call.function;
    if (fragments && isAbsent(called)) continue;
    if (!isRecord(called)) return `${where}[${index}].function is not an object`;
    const { name, arguments: argumentsText } = called;
    if (fragments ? !isAbsent(name) && typeof name !== 'string' : typeof name !== 'string') return `${where}[${index}].function.name is not text`;
    if (!isAbsent(argumentsText) && typeof argumentsText !== 'string') return `${where}[${index}].function.arguments is not text`;
  }
  return undefined;
}
