import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const version = 'v1';

/**
 * Encrypts secrets at rest with AES-256-GCM. Each blob carries a fresh 96-bit IV and the auth tag;
 * the associated data binds a blob to the record it belongs to, so a blob copied onto another row fails.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('The encryption key must be 32 bytes');
    this.#key = Buffer.from(key);
  }

  /** Encrypts a UTF-8 string; returns `v1:<base64 iv|tag|ciphertext>`. */
  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
  }

  /** Decrypts a blob made by encrypt with the same associated data; throws when it was altered. */
  decrypt(blob: string, associatedData: string): string {
    const [prefix, payload] = blob.split(':', 2);
    if (prefix !== version || payload === undefined) throw new Error('Unknown secret format');
    const bytes = Buffer.from(payload, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
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
