import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Authenticator, credentialDigest, hashCredential, type CredentialVerifier, type Principal } from './authenticator.js';

const adminKey = 'tg-admin-0123456789abcdef';

describe('credential hashing', () => {
  it('is the SHA-256 of the UTF-8 bytes, as hex and as bytes', () => {
    for (const credential of [adminKey, 'tg_Zm9vYmFy', 'clé-ünïcode-🔑', '']) {
      const expected = createHash('sha256').update(credential, 'utf8').digest();
      expect(credentialDigest(credential)).toBe(expected.toString('hex'));
      expect(hashCredential(credential).equals(expected)).toBe(true);
    }
  });
});

describe('Authenticator', () => {
  /** A verifier that accepts one credential and records what it was given. */
  function recordingVerifier(accepted: string): CredentialVerifier & { calls: Array<[string, string]> } {
    const calls: Array<[string, string]> = [];
    return {
      calls,
      verify(credential: string, digest: string): Principal | undefined {
        calls.push([credential, digest]);
        return credential === accepted ? { kind: 'api-key', id: 'key-1', admin: false } : undefined;
      },
    };
  }

  it('recognises the admin key without asking the verifiers', () => {
    const authenticator = new Authenticator(hashCredential(adminKey));
    const verifier = recordingVerifier('tg_other');
    authenticator.addVerifier(verifier);
    expect(authenticator.authenticate(adminKey)).toEqual({ kind: 'admin', id: 'bootstrap', admin: true });
    expect(verifier.calls).toEqual([]);
  });

  it('hands each verifier the credential with its digest, on every request', () => {
    const authenticator = new Authenticator(hashCredential(adminKey));
    const verifier = recordingVerifier('tg_client');
    authenticator.addVerifier(verifier);
    expect(authenticator.authenticate('tg_client')).toMatchObject({ kind: 'api-key', id: 'key-1' });
    expect(authenticator.authenticate('tg_client')).toMatchObject({ kind: 'api-key', id: 'key-1' });
    expect(verifier.calls).toEqual([
      ['tg_client', credentialDigest('tg_client')],
      ['tg_client', credentialDigest('tg_client')],
    ]);
  });

  it('refuses missing and unknown credentials without echoing them', () => {
    const authenticator = new Authenticator(hashCredential(adminKey));
    authenticator.addVerifier(recordingVerifier('tg_client'));
    expect(() => authenticator.authenticate(undefined)).toThrow(/Missing credentials/);
    expect(() => authenticator.authenticate('')).toThrow(/Missing credentials/);
    let message = '';
    try {
      authenticator.authenticate('tg_unknown-secret');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('Invalid credentials');
  });
});
