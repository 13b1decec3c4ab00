import { z } from 'zod';

/**
 * A content part or block: an object with a string `type`. The types in `known` are held to their own schema (the
 * fields Tollgate reads or translates, so that a malformed one is a 400 naming the field, not a TypeError deep in a
 * translator); any other type passes through untouched, for upstreams that know it. `common` holds the fields
 * every type must have.
 */
export function typedBlock(known: ReadonlyMap<string, z.ZodType>, common: z.ZodRawShape = {}) {
  return z.looseObject({ type: z.string(), ...common }).superRefine((block, context) => {
    const schema = known.get(block.type);
    if (schema === undefined) return;
    const result = schema.safeParse(block);
    if (result.success) return;
    for (const issue of result.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: block });
  });
}
