import { z } from 'zod';

/**
 * A `{value, env_var, from_env}` field as clients send it: a plain string, the string `env.NAME`
 * (a reference to an environment variable), or the object form.
 */
export const envVarInputSchema = z
  .union([
    z.string(),
    z
      .object({
        value: z.string().optional(),
        env_var: z.string().optional(),
        from_env: z.boolean().optional(),
      })
      .strict(),
  ])
  .meta({ description: 'A plain string, "env.NAME" to read an environment variable, or {value, env_var, from_env}.' });
export type EnvVarInput = z.infer<typeof envVarInputSchema>;

/** A `{value, env_var, from_env}` field as Tollgate shows it (secrets redacted, references unresolved). */
export const envVarOutputSchema = z.object({
  value: z.string(),
  env_var: z.string(),
  from_env: z.boolean(),
});
export type EnvVarOutput = z.infer<typeof envVarOutputSchema>;

/** How Tollgate holds such a field: a literal value or a reference to an environment variable. */
export type EnvVarValue = { kind: 'value'; value: string } | { kind: 'env'; name: string };

const referencePattern = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Normalises client input into a literal or a reference. Returns an error message for a malformed reference.
 */
export function parseEnvVar(input: EnvVarInput): EnvVarValue | { error: string } {
  if (typeof input === 'string') {
    const match = referencePattern.exec(input);
    return match ? { kind: 'env', name: match[1]! } : { kind: 'value', value: input };
  }
  if (input.from_env === true || (input.env_var !== undefined && input.env_var !== '' && !input.value)) {
    const reference = input.env_var ?? '';
    const match = referencePattern.exec(reference) ?? /^([A-Za-z_][A-Za-z0-9_]*)$/.exec(reference);
    if (!match) return { error: 'env_var must be "env.NAME" where NAME is an environment variable name' };
    return { kind: 'env', name: match[1]! };
  }
  return { kind: 'value', value: input.value ?? '' };
}
