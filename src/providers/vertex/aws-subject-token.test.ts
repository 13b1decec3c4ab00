import { describe, expect, it } from 'vitest';
import { sigV4Problem } from '../../../test/mocks/sigv4-verification.js';
import { GatewayError } from '../../spec/errors.js';
import type { UpstreamRequest, UpstreamResponse } from '../../spec/provider.js';
import { DEFAULT_VERIFICATION_URL, regionOfZone, resolveAwsIdentity, secretsOfCallerIdentityToken, signedCallerIdentityToken, type AwsSubjectTokenSource } from './aws-subject-token.js';

const audience = '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/aws';
const role = { accessKeyId: 'ASIAROLE0001', secretAccessKey: 'roleSECRETmid1212', sessionToken: 'roleSESSIONmid3434' };
const metadata = 'http://169.254.169.254/latest';
const source: AwsSubjectTokenSource = {
  kind: 'aws',
  regionUrl: `${metadata}/meta-data/placement/availability-zone`,
  credentialsUrl: `${metadata}/meta-data/iam/security-credentials`,
  verificationUrl: DEFAULT_VERIFICATION_URL,
  sessionTokenUrl: `${metadata}/api/token`,
};
const text = (status: number, body: string): UpstreamResponse => ({ status, headers: {}, body: new TextEncoder().encode(body) });

/** A metadata service answering IMDSv2 reads as EC2 does; `answers` overrides a path's answer. */
function metadataService(answers: Record<string, UpstreamResponse> = {}) {
  const sent: UpstreamRequest[] = [];
  const send = async (request: UpstreamRequest): Promise<UpstreamResponse> => {
    sent.push(request);
    const path = new URL(request.url).pathname;
    if (answers[path] !== undefined) return answers[path];
    if (request.method === 'PUT' && path === '/latest/api/token') return text(200, 'imds-session');
    if (request.headers['x-aws-ec2-metadata-token'] !== 'imds-session') return text(401, '');
    if (path === '/latest/meta-data/placement/availability-zone') return text(200, 'eu-west-3c');
    if (path === '/latest/meta-data/iam/security-credentials') return text(200, 'gateway-role\n');
    if (path === '/latest/meta-data/iam/security-credentials/gateway-role') {
      return text(200, JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: role.accessKeyId, SecretAccessKey: role.secretAccessKey, Token: role.sessionToken }));
    }
    return text(404, '');
  };
  return { sent, send };
}

describe('regionOfZone', () => {
  it('drops the zone letter, and leaves a region as it is', () => {
    expect(regionOfZone('us-east-2b')).toBe('us-east-2');
    expect(regionOfZone(' ap-southeast-1a\n')).toBe('ap-southeast-1');
    expect(regionOfZone('us-west-2')).toBe('us-west-2');
  });
});

describe('resolveAwsIdentity', () => {
  it('reads the zone and the role through an IMDSv2 session when the environment says nothing', async () => {
    const service = metadataService();
    expect(await resolveAwsIdentity(source, {}, service.send)).toEqual({ region: 'eu-west-3', credentials: role });
    expect(service.sent.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toEqual([
      'PUT /latest/api/token',
      'GET /latest/meta-data/placement/availability-zone',
      'GET /latest/meta-data/iam/security-credentials',
      'GET /latest/meta-data/iam/security-credentials/gateway-role',
    ]);
    expect(service.sent[0]!.headers).toEqual({ 'x-aws-ec2-metadata-token-ttl-seconds': '300' });
  });

  it('takes the environment first: a full one asks nothing, a partial one asks only for the rest', async () => {
    const keys = { accessKeyId: 'AKIAENV0001', secretAccessKey: 'envSECRET' };
    const none = metadataService();
    expect(await resolveAwsIdentity(source, { region: 'us-west-1', ...keys }, none.send)).toEqual({ region: 'us-west-1', credentials: keys });
    expect(none.sent).toHaveLength(0);
    const regionOnly = metadataService();
    expect(await resolveAwsIdentity(source, keys, regionOnly.send)).toEqual({ region: 'eu-west-3', credentials: keys });
    expect(regionOnly.sent.map((request) => new URL(request.url).pathname)).toEqual(['/latest/api/token', '/latest/meta-data/placement/availability-zone']);
    // Without a session URL (IMDSv1), the reads go without a session token.
    const v1 = metadataService({ '/latest/meta-data/placement/availability-zone': text(200, 'sa-east-1a') });
    const { sessionTokenUrl: _, ...withoutSession } = source;
    expect((await resolveAwsIdentity(withoutSession, keys, v1.send)).region).toBe('sa-east-1');
    expect(v1.sent[0]!.headers).toEqual({});
  });

  it('answers 503 naming what is missing or what the metadata service said, never what it sent', async () => {
    const cases: Array<[AwsSubjectTokenSource, Record<string, UpstreamResponse>, RegExp]> = [
      [{ kind: 'aws', verificationUrl: DEFAULT_VERIFICATION_URL }, {}, /has no region: set AWS_REGION, or name credential_source\.region_url/],
      [{ ...source, credentialsUrl: undefined } as AwsSubjectTokenSource, {}, /has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name credential_source\.url/],
      [source, { '/latest/api/token': text(403, 'Forbidden') }, /answered HTTP 403 for an IMDSv2 session token \(http:\/\/169\.254\.169\.254\/latest\/api\/token\)/],
      [source, { '/latest/meta-data/iam/security-credentials': text(404, '') }, /answered HTTP 404 for the instance role/],
      [source, { '/latest/meta-data/iam/security-credentials/gateway-role': text(200, `{"AccessKeyId":"A","Token":"${role.sessionToken}"}`) }, /lack AccessKeyId or SecretAccessKey/],
      [source, { '/latest/meta-data/placement/availability-zone': text(200, '<html>') }, /the availability zone at .* is not one/],
    ];
    for (const [from, answers, pattern] of cases) {
      const failure = await resolveAwsIdentity(from, {}, metadataService(answers).send).then(
        () => undefined,
        (error: unknown) => error as GatewayError,
      );
      expect(failure).toBeInstanceOf(GatewayError);
      expect(failure).toMatchObject({ status: 503, code: 'provider_credentials_missing' });
      expect(failure!.message).toMatch(pattern);
      expect(failure!.message).not.toContain(role.sessionToken);
    }
  });
});

describe('signedCallerIdentityToken', () => {
  it('is a GetCallerIdentity request for the region, bound to the pool provider, with a signature AWS would accept', async () => {
    const now = Date.parse('2026-12-07T04:05:06Z');
    const token = await signedCallerIdentityToken(DEFAULT_VERIFICATION_URL, audience, 'eu-west-3', role, now);
    const request = JSON.parse(decodeURIComponent(token)) as { url: string; method: string; headers: Array<{ key: string; value: string }>; body: string };
    expect(request.url).toBe('https://sts.eu-west-3.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15');
    expect(request.method).toBe('POST');
    expect(request.body).toBe('');
    const headers = Object.fromEntries(request.headers.map((header) => [header.key, header.value]));
    expect(Object.keys(headers).sort()).toEqual(['authorization', 'host', 'x-amz-date', 'x-amz-security-token', 'x-goog-cloud-target-resource']);
    expect(headers).toMatchObject({ host: 'sts.eu-west-3.amazonaws.com', 'x-amz-date': '20261207T040506Z', 'x-goog-cloud-target-resource': audience, 'x-amz-security-token': role.sessionToken });
    expect(headers.authorization).toContain('Credential=ASIAROLE0001/20261207/eu-west-3/sts/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token;x-goog-cloud-target-resource,');
    const url = new URL(request.url);
    const arrived = { method: 'POST', path: url.pathname, query: url.search.slice(1), headers, body: '' };
    expect(sigV4Problem(arrived, { credentials: role, region: 'eu-west-3', service: 'sts' })).toBeUndefined();
    expect(sigV4Problem(arrived, { credentials: { ...role, secretAccessKey: 'another' }, region: 'eu-west-3', service: 'sts' })?.code).toBe('InvalidSignatureException');
    expect(token).not.toContain(role.secretAccessKey);
  });

  it('takes a verification URL without a scheme, and leaves the session token out for long-term keys', async () => {
    const token = await signedCallerIdentityToken('sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15', audience, 'us-east-1', { accessKeyId: 'AKIA1', secretAccessKey: 's' }, 0);
    const request = JSON.parse(decodeURIComponent(token)) as { url: string; headers: Array<{ key: string }> };
    expect(request.url).toBe('https://sts.us-east-1.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15');
    expect(request.headers.map((header) => header.key)).not.toContain('x-amz-security-token');
  });
});

describe('secretsOfCallerIdentityToken', () => {
  it('names the session token and the signature header, and nothing for a token it cannot read', async () => {
    const token = await signedCallerIdentityToken(DEFAULT_VERIFICATION_URL, audience, 'eu-west-3', role, 0);
    const secrets = secretsOfCallerIdentityToken(token);
    expect(secrets).toHaveLength(2);
    expect(secrets).toContain(role.sessionToken);
    expect(secrets.find((secret) => secret.startsWith('AWS4-HMAC-SHA256 '))).toBeDefined();
    expect(secretsOfCallerIdentityToken('%E0%A4%A')).toEqual([]);
  });
});
