import * as nodeCrypto from 'node:crypto';
import { createHash, timingSafeEqual } from 'node:crypto';
import { errors } from '../../spec/errors.js';

/** Who is calling: the bootstrap admin, or a client API key (plugged in by the API-keys module). */
export type Principal =
  | { kind: 'admin'; id: 'bootstrap'; admin: true }
  | { kind: 'api-key'; id: string; admin: boolean; [detail: string]: unknown };

/** Recognises one kind of credential; returns undefined when the credential is not of its kind. */
export interface CredentialVerifier {
  /**
   * `digest` is the credential's {@link credentialDigest}, which the authenticator computes once per request for
   * the admin check, so that no verifier needs to hash the credential again.
   */
  verify(credential: string, digest: string): Principal | undefined;
}

/**
 * Node's one-shot hash (20.12 and later) skips the Hash object that createHash builds, about half the cost for a
 * credential of some fifty bytes. Read from the namespace, not imported by name, so an older Node 20, which lacks
 * it, still loads this module and falls back to createHash.
 */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, outputEncoding: 'hex') => string }).hash;

/** SHA-256 (hex) of a credential's UTF-8 bytes: the form under which API keys are stored and looked up. */
export function credentialDigest(credential: string): string {
  return oneShotHash === undefined ? createHash('sha256').update(credential, 'utf8').digest('hex') : oneShotHash('sha256', credential, 'hex');
}

/** SHA-256 of a credential, the only form in which Tollgate keeps the admin key. */
export function hashCredential(credential: string): Buffer {
  return Buffer.from(credentialDigest(credential), 'hex');
}

/**
 * Authenticates a presented credential against the admin key's hash (in constant time) and then the
 * registered verifiers. Never reads the database: verifiers hold in-memory indexes.
 */
export class Authenticator {
  readonly #adminKeyHash: Buffer;
  readonly #verifiers: CredentialVerifier[] = [];

  constructor(adminKeyHash: Buffer) {
    this.#adminKeyHash = adminKeyHash;
  }

  addVerifier(verifier: CredentialVerifier): void {
    this.#verifiers.push(verifier);
  }

  /** The caller, or a 401 that does not echo the credential. */
  authenticate(credential: string | undefined): Principal {
    if (credential === undefined || credential === '') {
      throw errors.unauthorized('Missing credentials: send "Authorization: Bearer <key>"', { code: 'missing_api_key' });
    }
    // One hash of the credential per request, shared by the admin check and every verifier. It is not cached
    // across requests: a cache would keep presented secrets in memory, to save about a microsecond.
    const digest = credentialDigest(credential);
    if (timingSafeEqual(Buffer.from(digest, 'hex'), this.#adminKeyHash)) {
      return { kind: 'admin', id: 'bootstrap', admin: true };
    }
    for (const verifier of this.#verifiers) {
      const principal = verifier.verify(credential, digest);
      if (principal) return principal;
    }
    throw errors.unauthorized('Invalid credentials', { code: 'invalid_api_key' });
  }

  /** Like authenticate, but only admin principals pass (403 for others). */
  requireAdmin(credential: string | undefined): Principal {
    const principal = this.authenticate(credential);
    if (!principal.admin) {
      throw errors.forbidden('This key may not use the management API', { code: 'admin_key_required' });
    }
    return principal;
  }
}

/** Extracts the credential from `Authorization: Bearer`, `x-api-key` or another named header. */
export function credentialFrom(headers: Record<string, string | string[] | undefined>, extraHeaders: readonly string[] = []): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!.trim();
  }
  for (const name of ['x-api-key', ...extraHeaders]) {
    const value = headers[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}
