import type { ResolvedKey } from './provider.js';

/** Shorter values would redact ordinary words; real credentials are long. */
const MIN_SECRET_LENGTH = 8;

/** Replaces every occurrence of the given secrets in a text, so an upstream that echoes a credential leaks nothing. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
    if (result.includes(secret)) result = result.split(secret).join('[redacted]');
  }
  return result;
}

/** Every secret a resolved provider key holds: what must never reach a client, whatever the provider echoes. */
export function secretsOfKey(key: ResolvedKey): string[] {
  const secrets = [key.value];
  if (key.azure) secrets.push(key.azure.key2 ?? '', key.azure.clientSecret ?? '');
  if (key.bedrock) secrets.push(key.bedrock.accessKey ?? '', key.bedrock.secretKey ?? '', key.bedrock.sessionToken ?? '');
  if (key.vertex) secrets.push(key.vertex.authCredentials);
  return secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH);
}
