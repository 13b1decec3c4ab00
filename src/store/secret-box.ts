import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const version = 'v1';

/**
 * Encrypts secrets at rest with AES-256-GCM. Each blob carries a fresh 96-bit IV and the auth tag;
 * the associated data binds a blob to the record it belongs to, so a blob copied onto another row fails.
 * Blobs are sealed with the current key; keys given as previous ones still open the blobs they sealed (GCM's tag
 * tells the key that fits), so that the key can be rotated: see `ProviderKeyRepository.reencryptSecrets`.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly #previousKeys: readonly Buffer[];

  constructor(key: Buffer, previousKeys: readonly Buffer[] = []) {
    if (key.length !== 32) throw new Error('The encryption key must be 32 bytes');
    if (previousKeys.some((previous) => previous.length !== 32)) throw new Error('A previous encryption key must be 32 bytes');
    this.#key = Buffer.from(key);
    this.#previousKeys = previousKeys.filter((previous) => !previous.equals(key)).map((previous) => Buffer.from(previous));
  }

  /** Encrypts a UTF-8 string with the current key; returns `v1:<base64 iv|tag|ciphertext>`. */
  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
  }

  /** Decrypts a blob made by encrypt with the same associated data; throws when no key opens it or it was altered. */
  decrypt(blob: string, associatedData: string): string {
    return this.open(blob, associatedData).plaintext;
  }

  /**
   * Decrypts a blob and tells whether the current key sealed it (false: a previous key did, and it is due to be
   * sealed again). Throws {@link SecretUnreadableError} when no key opens it.
   */
  open(blob: string, associatedData: string): { plaintext: string; current: boolean } {
    const [prefix, payload] = blob.split(':', 2);
    if (prefix !== version || payload === undefined) throw new SecretUnreadableError('Unknown secret format');
    const bytes = Buffer.from(payload, 'base64');
    const keys = [this.#key, ...this.#previousKeys];
    for (let index = 0; index < keys.length; index += 1) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', keys[index]!, bytes.subarray(0, 12));
        decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return { plaintext: Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8'), current: index === 0 };
      } catch {
        // Not this key's, altered, or cut short: try the next.
      }
    }
    throw new SecretUnreadableError(
      keys.length === 1 ? 'The secret does not open with the encryption key (another key, or altered)' : `The secret opens with none of the ${keys.length} encryption keys (another key, or altered)`,
    );
  }
}

/** A stored secret that no configured key opens. Its message names no secret and no key. */
export class SecretUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretUnreadableError';
  }
}

/**
 * The embedded default's key file: read it, or create it (mode 0600) when absent.
 * Returns the key and whether it was just generated, so the caller can warn.
 */
export function loadOrCreateKeyFile(dataDir: string): { key: Buffer; created: boolean; file: string } {
  const file = path.join(dataDir, 'encryption.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return { key, created: false, file };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, created: true, file };
}
