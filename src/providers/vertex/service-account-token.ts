/**
 * OAuth2 access tokens for Google service accounts (the JWT bearer grant): the service account signs a short
 * JWT with its private key (RS256) and trades it at its `token_uri` for a bearer token valid about an hour.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { GatewayError } from '../../spec/errors.js';
import type { HttpSend } from '../../spec/provider.js';
import { createTokenCache, type IssuedToken } from './token-cache.js';
import { readOAuthTokenReply, sendForToken } from './token-endpoint.js';

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google's maximum assertion lifetime. */
const ASSERTION_LIFETIME_SECONDS = 3600;
/** The fields of a service-account key file that the grant needs. */
export interface ServiceAccountCredential {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string;
  tokenUri: string;
}

/** Credentials that cannot be used as written (the operator's to fix): `problem` names what is wrong, never a value. */
export function credentialError(keyName: string, problem: string): GatewayError {
  // Never quote the input: JSON.parse and crypto messages may contain an excerpt of the private key.
  return new GatewayError({
    status: 500,
    type: 'server_error',
    code: 'invalid_provider_credentials',
    message: `The Vertex key '${keyName}' has unusable Google credentials: ${problem}.`,
  });
}

/** Reads a service-account JSON text; throws a GatewayError naming what is wrong, never echoing the key. */
export function parseServiceAccountCredential(text: string, keyName: string): ServiceAccountCredential {
  if (text.trim() === '') throw credentialError(keyName, 'no service-account JSON is configured (vertex auth_credentials)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw credentialError(keyName, 'the text is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw credentialError(keyName, 'the JSON is not an object');
  const record = parsed as Record<string, unknown>;
  if (record.type !== undefined && record.type !== 'service_account') {
    throw credentialError(keyName, `type is '${String(record.type).slice(0, 40)}', expected 'service_account'`);
  }
  const missing = ['client_email', 'private_key'].filter((field) => typeof record[field] !== 'string' || record[field] === '');
  if (missing.length > 0) throw credentialError(keyName, `${missing.join(' and ')} missing`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(record.private_key as string);
  } catch {
    throw credentialError(keyName, 'private_key is not a PEM private key');
  }
  const tokenUri = typeof record.token_uri === 'string' && record.token_uri !== '' ? record.token_uri : 'https://oauth2.googleapis.com/token';
  return {
    clientEmail: record.client_email as string,
    privateKey,
    privateKeyId: typeof record.private_key_id === 'string' ? record.private_key_id : '',
    tokenUri,
  };
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The signed assertion: header {alg RS256, typ JWT, kid}, claims {iss, scope, aud = token_uri, iat, exp}. */
export function createServiceAccountAssertion(credential: ServiceAccountCredential, nowMs: number): string {
  const issuedAt = Math.floor(nowMs / 1000);
  const header = base64UrlJson({ alg: 'RS256', typ: 'JWT', kid: credential.privateKeyId });
  const claims = base64UrlJson({
    iss: credential.clientEmail,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: credential.tokenUri,
    iat: issuedAt,
    exp: issuedAt + ASSERTION_LIFETIME_SECONDS,
  });
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${signer.sign(credential.privateKey).toString('base64url')}`;
}

export interface TokenRequestContext {
  send: HttpSend;
  now: () => number;
  signal?: AbortSignal;
}

/** Hands out access tokens per service account, cached until shortly before expiry. */
export interface AccessTokenSource {
  getToken(credential: ServiceAccountCredential, context: TokenRequestContext): Promise<string>;
}

/**
 * Creates a token source. Tokens are cached per client_email; concurrent callers of an account with no valid
 * token share one refresh, and a failed refresh is not cached (the next caller tries again).
 */
export function createAccessTokenSource(): AccessTokenSource {
  const tokens = createTokenCache();

  async function fetchToken(credential: ServiceAccountCredential, context: TokenRequestContext): Promise<IssuedToken> {
    const requestedAt = context.now();
    const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: createServiceAccountAssertion(credential, requestedAt) });
    const response = await sendForToken(
      context.send,
      { method: 'POST', url: credential.tokenUri, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
      `Google's token endpoint (${credential.tokenUri})`,
    );
    return readOAuthTokenReply(response, requestedAt, "Google's token endpoint");
  }

  return {
    getToken(credential, context) {
      return tokens.getToken(`service_account:${credential.clientEmail}`, () => fetchToken(credential, context), context);
    },
  };
}
