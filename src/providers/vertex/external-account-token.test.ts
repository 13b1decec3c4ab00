import { describe, expect, it } from 'vitest';
import { gatewayErrorOf } from '../../../test/support/gateway-error-of.js';
import { GatewayError } from '../../spec/errors.js';
import type { UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import {
  externalAccountIdentity,
  fetchExternalAccountToken,
  GOOGLE_STS_ENDPOINT,
  impersonationRequest,
  parseExternalAccount,
  readImpersonationReply,
  readSubjectToken,
  stsExchangeRequest,
  type ExternalAccountCredential,
  type FileOrUrlSource,
  type SubjectTokenFormat,
} from './external-account-token.js';

const audience = '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/oidc';
const impersonationUrl = 'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken';
const jwtType = 'urn:ietf:params:oauth:token-type:jwt';
const fail = (problem: string) => new GatewayError({ status: 500, type: 'server_error', code: 'invalid_provider_credentials', message: problem });
const reply = (status: number, body: unknown): UpstreamResponse => ({ status, headers: {}, body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)) });

function parse(credentialSource: unknown, extra: Record<string, unknown> = {}): ExternalAccountCredential {
  return parseExternalAccount({ type: 'external_account', audience, subject_token_type: jwtType, credential_source: credentialSource, ...extra }, fail);
}

describe('parseExternalAccount', () => {
  it("reads a file source, STS's default URL, an hour's impersonation, and the optional client and workforce project", () => {
    expect(parse({ file: '/var/run/secrets/token' })).toEqual({
      audience,
      subjectTokenType: jwtType,
      tokenUrl: GOOGLE_STS_ENDPOINT,
      source: { kind: 'file', path: '/var/run/secrets/token', format: { type: 'text' } },
      lifetimeSeconds: 3600,
    });
    const full = parse(
      { file: '/token.json', url: 'http://ignored', format: { type: 'json', subject_token_field_name: 'id_token' } },
      {
        token_url: 'http://127.0.0.1:1/v1/token',
        service_account_impersonation_url: impersonationUrl,
        service_account_impersonation: { token_lifetime_seconds: 1800 },
        workforce_pool_user_project: 'workforce-project',
        client_id: 'sts-client',
        client_secret: 'sts-secret-0123456789',
      },
    );
    // A file wins over a URL (AIP-4117).
    expect(full).toMatchObject({
      tokenUrl: 'http://127.0.0.1:1/v1/token',
      source: { kind: 'file', path: '/token.json', format: { type: 'json', fieldName: 'id_token' } },
      impersonationUrl,
      lifetimeSeconds: 1800,
      workforcePoolUserProject: 'workforce-project',
      client: { id: 'sts-client', secret: 'sts-secret-0123456789' },
    });
  });

  it("reads a URL source with its headers (names in lower case, as sent)", () => {
    expect(parse({ url: 'http://169.254.169.254/metadata/identity/oauth2/token', headers: { Metadata: 'True' }, format: { type: 'json', subject_token_field_name: 'access_token' } }).source).toEqual({
      kind: 'url',
      url: 'http://169.254.169.254/metadata/identity/oauth2/token',
      headers: { metadata: 'True' },
      format: { type: 'json', fieldName: 'access_token' },
    });
  });

  it("reads an AWS source (aws1): its metadata URLs, and GetCallerIdentity's regional URL or the standard one", () => {
    const metadata = 'http://169.254.169.254/latest';
    expect(
      parse({
        environment_id: 'aws1',
        region_url: `${metadata}/meta-data/placement/availability-zone`,
        url: `${metadata}/meta-data/iam/security-credentials`,
        regional_cred_verification_url: 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15',
        imdsv2_session_token_url: `${metadata}/api/token`,
      }).source,
    ).toEqual({
      kind: 'aws',
      regionUrl: `${metadata}/meta-data/placement/availability-zone`,
      credentialsUrl: `${metadata}/meta-data/iam/security-credentials`,
      verificationUrl: 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15',
      sessionTokenUrl: `${metadata}/api/token`,
    });
    expect(parse({ environment_id: 'aws1' }).source).toEqual({ kind: 'aws', verificationUrl: 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15' });
    expect(gatewayErrorOf(() => parse({ environment_id: 'aws2' })).message).toBe("credential_source.environment_id names AWS version 2; Tollgate reads version 1 ('aws1')");
    expect(gatewayErrorOf(() => parse({ environment_id: 'awsome' })).message).toBe("credential_source.environment_id 'awsome' is not an AWS environment ('aws1')");
    expect(gatewayErrorOf(() => parse({ environment_id: 'aws1', url: 'file:///etc/passwd' })).message).toBe('credential_source.url is not an http(s) URL');
  });

  it('refuses the executable and certificate sources, and other environments, as a 503 naming the sources it reads', () => {
    for (const [source, named] of [
      [{ environment_id: 'azure9' }, "the environment 'azure9'"],
      [{ executable: { command: '/bin/token' } }, 'a program (credential_source.executable)'],
      [{ certificate: { use_default_certificate_config: true } }, 'an X.509 certificate'],
    ] as const) {
      const failure = gatewayErrorOf(() => parse(source));
      expect(failure).toMatchObject({ status: 503, code: 'provider_credentials_missing' });
      expect(failure.message).toContain(named);
      expect(failure.message).toContain("a file (credential_source.file) or a URL (credential_source.url), as text or JSON, or the host's AWS identity (credential_source.environment_id 'aws1')");
    }
  });

  it('names a malformed field', () => {
    expect(gatewayErrorOf(() => parseExternalAccount({ type: 'external_account', credential_source: { file: '/t' } }, fail)).message).toBe('the external_account credentials lack audience, subject_token_type');
    expect(gatewayErrorOf(() => parse(undefined)).message).toBe('credential_source is missing');
    expect(gatewayErrorOf(() => parse({})).message).toMatch(/^credential_source names no subject token source/);
    expect(gatewayErrorOf(() => parse({ file: '/t', format: { type: 'xml' } })).message).toBe("credential_source.format.type is 'xml', expected 'text' or 'json'");
    expect(gatewayErrorOf(() => parse({ file: '/t', format: { type: 'json' } })).message).toBe('credential_source.format.subject_token_field_name is required with the json format');
    expect(gatewayErrorOf(() => parse({ url: 'http://x', headers: { Metadata: true } })).message).toBe('credential_source.headers.Metadata is not a string');
    expect(gatewayErrorOf(() => parse({ file: '/t' }, { service_account_impersonation: { token_lifetime_seconds: '1h' } })).message).toMatch(/token_lifetime_seconds/);
  });
});

describe('readSubjectToken', () => {
  const file = (format: SubjectTokenFormat): FileOrUrlSource => ({ kind: 'file', path: '/t', format });

  it("takes the text without its surrounding white space, or the JSON member the format names", () => {
    expect(readSubjectToken('  eyJ.token.sig\n', file({ type: 'text' }))).toBe('eyJ.token.sig');
    expect(readSubjectToken('{"id_token":"eyJ.json.sig","expires_at":1}', file({ type: 'json', fieldName: 'id_token' }))).toBe('eyJ.json.sig');
  });

  it('refuses an empty text, text that is not JSON, and a missing member, as a 503 that does not quote it', () => {
    for (const [content, format, problem] of [
      ['\n', { type: 'text' }, 'is empty'],
      ['eyJ.secret-token.sig', { type: 'json', fieldName: 'id_token' }, 'is not JSON, as its format says'],
      ['{"access_token":"eyJ.secret-token.sig"}', { type: 'json', fieldName: 'id_token' }, "holds no string member 'id_token'"],
    ] as const) {
      const failure = gatewayErrorOf(() => readSubjectToken(content, file(format)));
      expect(failure).toMatchObject({ status: 503, code: 'provider_credentials_missing', message: `The subject token file /t (credential_source.file) ${problem}.` });
      expect(failure.message).not.toContain('secret-token');
    }
  });
});

describe('stsExchangeRequest', () => {
  it('is the RFC 8693 exchange for a cloud-platform access token', () => {
    const request = stsExchangeRequest(parse({ file: '/t' }), 'subject-token');
    expect(request).toMatchObject({ method: 'POST', url: GOOGLE_STS_ENDPOINT, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(request.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(request.body as string))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience,
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token: 'subject-token',
      subject_token_type: jwtType,
    });
  });

  it("authenticates the file's client with HTTP Basic, and names a workforce project only without impersonation", () => {
    const withClient = stsExchangeRequest(parse({ file: '/t' }, { client_id: 'id', client_secret: 'secret', workforce_pool_user_project: 'wf' }), 's');
    expect(withClient.headers.authorization).toBe(`Basic ${Buffer.from('id:secret').toString('base64')}`);
    expect(new URLSearchParams(withClient.body as string).get('options')).toBe('{"userProject":"wf"}');
    const impersonating = stsExchangeRequest(parse({ file: '/t' }, { workforce_pool_user_project: 'wf', service_account_impersonation_url: impersonationUrl }), 's');
    expect(new URLSearchParams(impersonating.body as string).has('options')).toBe(false);
  });
});

describe('impersonationRequest and readImpersonationReply', () => {
  it('asks generateAccessToken with the federated token for the scope and lifetime', () => {
    const credential = parse({ file: '/t' }, { service_account_impersonation_url: impersonationUrl, service_account_impersonation: { token_lifetime_seconds: 1200 } });
    const request = impersonationRequest(credential, impersonationUrl, 'ya29.federated');
    expect(request).toMatchObject({ method: 'POST', url: impersonationUrl, headers: { authorization: 'Bearer ya29.federated', 'content-type': 'application/json' } });
    expect(JSON.parse(request.body as string)).toEqual({ scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '1200s' });
  });

  it('reads the token and its RFC 3339 expiry, and tells a refusal in IAM’s own words', () => {
    expect(readImpersonationReply(200, reply(200, { accessToken: 'ya29.sa', expireTime: '2026-11-23T13:00:00Z' }).body)).toEqual({ token: 'ya29.sa', expiresAt: Date.parse('2026-11-23T13:00:00Z') });
    const denied = reply(403, { error: { code: 403, message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", status: 'PERMISSION_DENIED' } });
    expect(gatewayErrorOf(() => readImpersonationReply(403, denied.body))).toMatchObject({
      status: 401,
      code: 'upstream_token_refused',
      message: "Google's IAM Credentials API (generateAccessToken) answered HTTP 403 (PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).).",
    });
    expect(gatewayErrorOf(() => readImpersonationReply(200, reply(200, { accessToken: 'ya29.sa', expireTime: 'soon' }).body))).toMatchObject({ status: 502 });
  });
});

describe('externalAccountIdentity', () => {
  it('tells identities apart by pool provider, impersonated account and source', () => {
    const base = parse({ file: '/t' });
    expect(externalAccountIdentity(parse({ file: '/t' }))).toBe(externalAccountIdentity(base));
    expect(externalAccountIdentity(parse({ file: '/other' }))).not.toBe(externalAccountIdentity(base));
    expect(externalAccountIdentity(parse({ file: '/t' }, { service_account_impersonation_url: impersonationUrl }))).not.toBe(externalAccountIdentity(base));
    const aws = parse({ environment_id: 'aws1' });
    expect(externalAccountIdentity(aws)).not.toBe(externalAccountIdentity(base));
    expect(externalAccountIdentity(parse({ environment_id: 'aws1', regional_cred_verification_url: 'https://sts.{region}.amazonaws.com.cn?Action=GetCallerIdentity&Version=2011-06-15' }))).not.toBe(externalAccountIdentity(aws));
  });
});

describe('fetchExternalAccountToken', () => {
  it('reads the file at each fetch, exchanges it, and impersonates when the file says so', async () => {
    const sent: UpstreamRequest[] = [];
    let fileContent = 'first-subject-token';
    const send = async (request: UpstreamRequest) => {
      sent.push(request);
      if (request.url === GOOGLE_STS_ENDPOINT) return reply(200, { access_token: `ya29.sts-${sent.length}`, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 });
      return reply(200, { accessToken: 'ya29.sa', expireTime: '2026-11-23T13:00:00Z' });
    };
    const context = { send, now: () => 5_000, readFile: async () => fileContent };
    expect(await fetchExternalAccountToken(parse({ file: '/t' }), context)).toEqual({ token: 'ya29.sts-1', expiresAt: 5_000 + 3_600_000 });
    fileContent = 'rotated-subject-token';
    const impersonated = await fetchExternalAccountToken(parse({ file: '/t' }, { service_account_impersonation_url: impersonationUrl }), context);
    expect(impersonated).toEqual({ token: 'ya29.sa', expiresAt: Date.parse('2026-11-23T13:00:00Z') });
    expect(new URLSearchParams(sent[1]!.body as string).get('subject_token')).toBe('rotated-subject-token');
    expect(sent[2]).toMatchObject({ url: impersonationUrl, headers: { authorization: 'Bearer ya29.sts-2' } });
  });

  it('asks a URL source with its headers, and tells a failed answer or read as a 503', async () => {
    const sent: UpstreamRequest[] = [];
    const source = { url: 'http://127.0.0.1:1/token', headers: { Metadata: 'True' } };
    const send = async (request: UpstreamRequest) => {
      sent.push(request);
      return request.method === 'GET' ? reply(200, 'url-token') : reply(200, { access_token: 'ya29.sts', expires_in: 3600 });
    };
    expect(await fetchExternalAccountToken(parse(source), { send, now: () => 0, readFile: async () => '' })).toMatchObject({ token: 'ya29.sts' });
    expect(sent[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:1/token', headers: { metadata: 'True' } });

    const refusing = async () => reply(400, { error: 'invalid_request' });
    await expect(fetchExternalAccountToken(parse(source), { send: refusing, now: () => 0, readFile: async () => '' })).rejects.toMatchObject({
      status: 503,
      message: 'The subject token URL http://127.0.0.1:1/token (credential_source.url) answered HTTP 400.',
    });
    const unreadable = async () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    await expect(fetchExternalAccountToken(parse({ file: '/t' }), { send, now: () => 0, readFile: unreadable })).rejects.toMatchObject({
      status: 503,
      code: 'provider_credentials_missing',
      message: 'The subject token file /t (credential_source.file) could not be read (EACCES).',
    });
  });

  it("tells STS's refusal as a 401 that does not repeat the subject token", async () => {
    const send = async () => reply(400, { error: 'invalid_grant', error_description: 'Token eyJ.subject-token-value.sig is expired' });
    const failure = (await fetchExternalAccountToken(parse({ file: '/t' }), { send, now: () => 0, readFile: async () => 'eyJ.subject-token-value.sig' }).catch((error: unknown) => error)) as GatewayError;
    expect(failure).toMatchObject({ status: 401, code: 'upstream_token_refused' });
    expect(failure.message).toBe("Google's Security Token Service answered HTTP 400 (invalid_grant: Token [redacted] is expired).");
  });
});
