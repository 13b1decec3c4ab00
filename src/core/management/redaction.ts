import type { EnvVarOutput, EnvVarValue } from '../../spec/schemas/env-var.js';

/** Redacts a secret for display: first 4 characters, 24 `*`, last 4; 8 characters or fewer become 8 `*`. */
export function redactSecret(secret: string): string {
  if (secret.length <= 8) return '********';
  return `${secret.slice(0, 4)}${'*'.repeat(24)}${secret.slice(-4)}`;
}

/** True when a string has the shape of a redacted secret (so that it is never stored as a new secret). */
export function looksRedacted(text: string): boolean {
  return text === '********' || /^.{4}\*{24}.{4}$/s.test(text);
}

/** The wire form of an env-var field; secrets are redacted, references shown unresolved. */
export function envVarView(field: EnvVarValue | null | undefined, secret: boolean): EnvVarOutput {
  if (!field) return { value: '', env_var: '', from_env: false };
  if (field.kind === 'env') return { value: '', env_var: `env.${field.name}`, from_env: true };
  return { value: secret && field.value !== '' ? redactSecret(field.value) : field.value, env_var: '', from_env: false };
}
