import { describe, expect, it } from 'vitest';
import { SecretBox, SecretUnreadableError } from './secret-box.js';

const oldKey = Buffer.alloc(32, 1);
const newKey = Buffer.alloc(32, 2);
const otherKey = Buffer.alloc(32, 3);

describe('SecretBox', () => {
  it('opens what it sealed, and says the current key sealed it', () => {
    const box = new SecretBox(newKey);
    const blob = box.encrypt('sk-secret', 'key-1');
    expect(box.open(blob, 'key-1')).toEqual({ plaintext: 'sk-secret', current: true });
    expect(box.decrypt(blob, 'key-1')).toBe('sk-secret');
  });

  it('opens what a previous key sealed, and says so; seals only with the current key', () => {
    const sealedBefore = new SecretBox(oldKey).encrypt('sk-secret', 'key-1');
    const rotated = new SecretBox(newKey, [otherKey, oldKey]);
    expect(rotated.open(sealedBefore, 'key-1')).toEqual({ plaintext: 'sk-secret', current: false });
    const sealedNow = rotated.encrypt('sk-secret', 'key-1');
    expect(new SecretBox(newKey).decrypt(sealedNow, 'key-1')).toBe('sk-secret');
    expect(() => new SecretBox(oldKey).decrypt(sealedNow, 'key-1')).toThrow(SecretUnreadableError);
    // The current key listed among the previous ones as well is still the current one.
    expect(new SecretBox(newKey, [newKey]).open(sealedNow, 'key-1').current).toBe(true);
  });

  it('refuses a blob no key opens, one altered, and one moved to another record, naming no secret', () => {
    const blob = new SecretBox(oldKey).encrypt('sk-secret', 'key-1');
    const box = new SecretBox(newKey, [otherKey]);
    expect(() => box.open(blob, 'key-1')).toThrow(/opens with none of the 2 encryption keys/);
    const opener = new SecretBox(oldKey);
    const bytes = Buffer.from(blob.slice(3), 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => opener.open(`v1:${bytes.toString('base64')}`, 'key-1')).toThrow(SecretUnreadableError);
    expect(() => opener.open(blob, 'key-2')).toThrow(/does not open with the encryption key/);
    expect(() => opener.open('v9:abc', 'key-1')).toThrow(/Unknown secret format/);
    // Cut short: too short for its IV and tag.
    expect(() => opener.open(blob.slice(0, 20), 'key-1')).toThrow(SecretUnreadableError);
    expect(() => opener.open('v1:', 'key-1')).toThrow(SecretUnreadableError);
    try {
      box.open(blob, 'key-1');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('sk-secret');
    }
  });

  it('takes only 32-byte keys', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
    expect(() => new SecretBox(newKey, [Buffer.alloc(31)])).toThrow(/previous encryption key must be 32 bytes/);
  });
});
