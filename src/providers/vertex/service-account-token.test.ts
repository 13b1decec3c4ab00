import { createVerify, generateKeyPairSync } from 'node:crypto';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import type { UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { startGoogleMock, type GoogleMock } from '../../../test/mocks/google-mock.js';
import {
  createAccessTokenSource,
  createServiceAccountAssertion,
  parseServiceAccountCredential,
  type ServiceAccountCredential,
} from './service-account-token.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const privateKeyBody = privateKey.split('\n')[5] ?? '';

let mock: GoogleMock;
beforeAll(async () => {
  mock = await startGoogleMock({ serviceAccountPublicKeyPem: publicKey, tokenLifetimeSeconds: 3599 });
});
afterAll(async () => {
  await mock.close();
});

function serviceAccountJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'tollgate-test',
    private_key_id: 'key-id-1',
    private_key: privateKey,
    client_email: 'gateway@tollgate-test.iam.gserviceaccount.com',
    client_id: '1234567890',
    token_uri: mock.tokenUrl,
    ...overrides,
  });
}

async function send(upstream: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
  const reply = await undiciRequest(upstream.url, { method: upstream.method, headers: upstream.headers, body: upstream.body, ...(signal ? { signal } : {}) });
  return { status: reply.statusCode, headers: reply.headers as Record<string, string>, body: new Uint8Array(await reply.body.arrayBuffer()) };
}

function expectCredentialError(text: string, pattern: RegExp): void {
  try {
    parseServiceAccountCredential(text, 'vertex-main');
  } catch (error) {
    expect(isGatewayError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(pattern);
    expect(message).toContain("'vertex-main'");
    expect(message).not.toContain('PRIVATE KEY');
    expect(message).not.toContain(privateKeyBody);
    expect((error as Error).cause).toBeUndefined();
    return;
  }
  throw new Error('expected a credential error');
}

describe('parseServiceAccountCredential', () => {
  it('reads the fields the grant needs', () => {
    const credential = parseServiceAccountCredential(serviceAccountJson(), 'k');
    expect(credential).toMatchObject({ clientEmail: 'gateway@tollgate-test.iam.gserviceaccount.com', privateKeyId: 'key-id-1', tokenUri: mock.tokenUrl });
  });

  it('explains broken credentials without echoing the private key', () => {
    expectCredentialError(serviceAccountJson().slice(0, -20), /not valid JSON/);
    expectCredentialError('', /no service-account JSON/);
    expectCredentialError(serviceAccountJson({ client_email: undefined }), /client_email missing/);
    expectCredentialError(serviceAccountJson({ type: 'authorized_user' }), /expected 'service_account'/);
    expectCredentialError(serviceAccountJson({ private_key: privateKey.replace(/[A-Za-z]{8}/, 'xxxxxxxx').slice(0, 300) }), /not a PEM private key/);
  });
});

describe('createServiceAccountAssertion', () => {
  it('signs an RS256 JWT with the documented header and claims', () => {
    const credential = parseServiceAccountCredential(serviceAccountJson(), 'k');
    const assertion = createServiceAccountAssertion(credential, 1_700_000_000_900);
    const [header, claims, signature] = assertion.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'key-id-1' });
    expect(JSON.parse(Buffer.from(claims, 'base64url').toString())).toEqual({
      iss: 'gateway@tollgate-test.iam.gserviceaccount.com',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      aud: mock.tokenUrl,
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${claims}`);
    expect(verifier.verify(publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });
});

describe('createAccessTokenSource', () => {
  it('fetches once for 20 concurrent callers and again only once the token nears expiry', async () => {
    const source = createAccessTokenSource();
    const credential: ServiceAccountCredential = parseServiceAccountCredential(serviceAccountJson({ client_email: 'concurrent@tollgate-test.iam.gserviceaccount.com' }), 'k');
    let now = 1_700_000_000_000;
    const context = { send, now: () => now };
    const before = mock.tokenRequests;
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken(credential, context)));
    expect(mock.tokenRequests - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^ya29\.mock-/);

    now += 3599_000 - 5 * 60_000 - 1;
    expect(await source.getToken(credential, context)).toBe(tokens[0]);
    expect(mock.tokenRequests - before).toBe(1);

    now += 1;
    const renewed = await source.getToken(credential, context);
    expect(mock.tokenRequests - before).toBe(2);
    expect(renewed).not.toBe(tokens[0]);
  });

  it('turns a refused assertion into a 401 and does not cache the failure', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const credential = parseServiceAccountCredential(serviceAccountJson({ private_key: other.privateKey, client_email: 'wrong@tollgate-test.iam.gserviceaccount.com' }), 'k');
    const source = createAccessTokenSource();
    const before = mock.tokenRequests;
    const context = { send, now: () => 1_700_000_000_000 };
    await expect(source.getToken(credential, context)).rejects.toMatchObject({ status: 401, code: 'upstream_token_refused', message: expect.stringContaining('Invalid JWT Signature') });
    await expect(source.getToken(credential, context)).rejects.toMatchObject({ status: 401 });
    expect(mock.tokenRequests - before).toBe(2);
  });

  it('tells an unreachable token endpoint as a 503 provider_credentials_missing naming it', async () => {
    const credential = parseServiceAccountCredential(serviceAccountJson({ client_email: 'unreachable@tollgate-test.iam.gserviceaccount.com', token_uri: 'http://127.0.0.1:9/token' }), 'k');
    const send = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:9');
    };
    await expect(createAccessTokenSource().getToken(credential, { send, now: () => 0 })).rejects.toMatchObject({
      status: 503,
      code: 'provider_credentials_missing',
      message: "Google's token endpoint (http://127.0.0.1:9/token) could not be reached (connect ECONNREFUSED 127.0.0.1:9).",
    });
  });

  it('lets a caller stop waiting without failing the others, nor cancelling the request it started for them', async () => {
    const source = createAccessTokenSource();
    const credential = parseServiceAccountCredential(serviceAccountJson({ client_email: 'abort@tollgate-test.iam.gserviceaccount.com' }), 'k');
    const controller = new AbortController();
    const context = { send, now: () => 1_700_000_000_000 };
    // As the core's send does, the first caller's requests are cancelled with its signal unless given another.
    const boundSend: typeof send = (request, callSignal) => send(request, callSignal ?? controller.signal);
    const aborted = source.getToken(credential, { ...context, send: boundSend, signal: controller.signal });
    const patient = source.getToken(credential, context);
    controller.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    await expect(patient).resolves.toMatch(/^ya29\./);
  });
});
