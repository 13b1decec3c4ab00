/**
 * Workload identity federation from AWS (AIP-4117's `environment_id: "aws1"` source): the subject token is a
 * GetCallerIdentity request to AWS STS, signed with the host's AWS credentials (SigV4) and serialised, which Google's
 * Security Token Service replays to AWS to learn who the caller is. The secret access key never leaves the host (the
 * signature proves it); a temporary credential's session token is part of the signed request, as with Google's own
 * libraries, and so reaches Google's STS.
 *
 * Where the region and the credentials come from, in the order Google's libraries take them: the environment
 * (`AWS_REGION` or `AWS_DEFAULT_REGION`; `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), else the
 * EC2 instance metadata service at the URLs the credential file names (the availability zone, whose region is the
 * zone without its letter; the instance role's temporary credentials), with an IMDSv2 session token when the file
 * names its URL.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { errors, type GatewayError } from '../../spec/errors.js';
import type { AwsCredentials, AwsEnvironment, HttpSend, UpstreamResponse } from '../../spec/provider.js';
import { sendForToken } from './token-endpoint.js';

/** The GetCallerIdentity endpoint a file that names none is verified at (`{region}` replaced). */
export const DEFAULT_VERIFICATION_URL = 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15';
/** The SigV4 header that binds the signed request to one workload identity pool provider. */
const TARGET_RESOURCE_HEADER = 'x-goog-cloud-target-resource';
const IMDS_TOKEN_HEADER = 'x-aws-ec2-metadata-token';
/** How long an IMDSv2 session token is asked to live: long enough for the three reads of one exchange. */
const IMDS_TOKEN_TTL_SECONDS = '300';

/** An AWS credential source, as the file describes it. */
export interface AwsSubjectTokenSource {
  kind: 'aws';
  /** The availability zone's metadata URL (`region_url`), when the environment names no region. */
  regionUrl?: string;
  /** The instance role's metadata URL (`url`), when the environment holds no access keys. */
  credentialsUrl?: string;
  /** GetCallerIdentity's URL, with `{region}` where the region goes (`regional_cred_verification_url`). */
  verificationUrl: string;
  /** IMDSv2's session token URL (`imdsv2_session_token_url`); without it the metadata reads go without a session. */
  sessionTokenUrl?: string;
}

/**
 * Reads an `aws1` credential source; `fail` names a malformed field. Other versions are refused as Google's libraries
 * refuse them: a later version would change the token's shape.
 */
export function parseAwsSource(environmentId: string, fields: Record<string, unknown>, fail: (problem: string) => GatewayError): AwsSubjectTokenSource {
  const version = /^aws(\d+)$/.exec(environmentId)?.[1];
  if (version === undefined) throw fail(`credential_source.environment_id '${environmentId.slice(0, 40)}' is not an AWS environment ('aws1')`);
  if (version !== '1') throw fail(`credential_source.environment_id names AWS version ${version.slice(0, 10)}; Tollgate reads version 1 ('aws1')`);
  const url = (name: string): string | undefined => {
    const value = fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' || !/^https?:\/\//.test(value)) throw fail(`credential_source.${name} is not an http(s) URL`);
    return value;
  };
  const verification = fields.regional_cred_verification_url;
  if (verification !== undefined && verification !== null && typeof verification !== 'string') throw fail('credential_source.regional_cred_verification_url is not a text');
  const regionUrl = url('region_url');
  const credentialsUrl = url('url');
  const sessionTokenUrl = url('imdsv2_session_token_url');
  return {
    kind: 'aws',
    verificationUrl: typeof verification === 'string' && verification !== '' ? verification : DEFAULT_VERIFICATION_URL,
    ...(regionUrl !== undefined ? { regionUrl } : {}),
    ...(credentialsUrl !== undefined ? { credentialsUrl } : {}),
    ...(sessionTokenUrl !== undefined ? { sessionTokenUrl } : {}),
  };
}

function unavailable(problem: string): GatewayError {
  return errors.unavailable(`The AWS identity for workload identity federation ${problem}.`, { code: 'provider_credentials_missing' });
}

/** The region in an availability zone's name: `us-east-2b` is in `us-east-2`. */
export function regionOfZone(zone: string): string {
  const trimmed = zone.trim();
  return /\d[a-z]$/.test(trimmed) ? trimmed.slice(0, -1) : trimmed;
}

/** Reads one metadata document; a failure names the URL, never what came back. */
async function readMetadata(send: HttpSend, url: string, sessionToken: string | undefined, what: string): Promise<string> {
  const response: UpstreamResponse = await sendForToken(send, { method: 'GET', url, headers: sessionToken === undefined ? {} : { [IMDS_TOKEN_HEADER]: sessionToken } }, `The instance metadata service (${url})`);
  if (response.status !== 200) throw unavailable(`could not be read: the instance metadata service answered HTTP ${response.status} for the ${what} (${url})`);
  return new TextDecoder().decode(response.body);
}

/** The instance role's temporary credentials: the role's name at `url`, its credentials at `url/<name>`. */
async function roleCredentials(send: HttpSend, url: string, sessionToken: string | undefined): Promise<AwsCredentials> {
  const role = (await readMetadata(send, url, sessionToken, 'instance role')).trim().split('\n')[0]?.trim() ?? '';
  if (role === '') throw unavailable(`could not be read: the instance has no role (${url})`);
  const document = await readMetadata(send, `${url.replace(/\/+$/, '')}/${encodeURIComponent(role)}`, sessionToken, "instance role's credentials");
  let parsed: { AccessKeyId?: unknown; SecretAccessKey?: unknown; Token?: unknown };
  try {
    parsed = JSON.parse(document) as typeof parsed;
  } catch {
    throw unavailable(`could not be read: the instance role's credentials are not JSON (${url})`);
  }
  if (typeof parsed?.AccessKeyId !== 'string' || typeof parsed.SecretAccessKey !== 'string' || parsed.AccessKeyId === '' || parsed.SecretAccessKey === '') {
    throw unavailable(`could not be read: the instance role's credentials lack AccessKeyId or SecretAccessKey (${url})`);
  }
  return { accessKeyId: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, ...(typeof parsed.Token === 'string' && parsed.Token !== '' ? { sessionToken: parsed.Token } : {}) };
}

/** The region and credentials the signature is made with: the environment's first, the metadata service's for the rest. */
export async function resolveAwsIdentity(source: AwsSubjectTokenSource, environment: AwsEnvironment, send: HttpSend): Promise<{ region: string; credentials: AwsCredentials }> {
  const environmentCredentials =
    environment.accessKeyId && environment.secretAccessKey
      ? { accessKeyId: environment.accessKeyId, secretAccessKey: environment.secretAccessKey, ...(environment.sessionToken ? { sessionToken: environment.sessionToken } : {}) }
      : undefined;
  let sessionToken: string | undefined;
  // IMDSv2 only when the metadata service is read at all: a host whose environment says everything never asks it.
  if (source.sessionTokenUrl !== undefined && (!environment.region || environmentCredentials === undefined)) {
    const url = source.sessionTokenUrl;
    const response = await sendForToken(send, { method: 'PUT', url, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': IMDS_TOKEN_TTL_SECONDS } }, `The instance metadata service (${url})`);
    if (response.status !== 200) throw unavailable(`could not be read: the instance metadata service answered HTTP ${response.status} for an IMDSv2 session token (${url})`);
    sessionToken = new TextDecoder().decode(response.body).trim();
  }
  let region = environment.region;
  if (!region) {
    if (source.regionUrl === undefined) throw unavailable('has no region: set AWS_REGION, or name credential_source.region_url');
    region = regionOfZone(await readMetadata(send, source.regionUrl, sessionToken, 'availability zone'));
    if (!/^[a-z0-9-]+$/.test(region)) throw unavailable(`could not be read: the availability zone at ${source.regionUrl} is not one`);
  }
  if (environmentCredentials !== undefined) return { region, credentials: environmentCredentials };
  if (source.credentialsUrl === undefined) throw unavailable('has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name credential_source.url');
  return { region, credentials: await roleCredentials(send, source.credentialsUrl, sessionToken) };
}

/**
 * The subject token: GetCallerIdentity at the regional endpoint, signed for `sts` in `region` with the pool provider
 * (`audience`) as a signed header, written as Google's STS reads it (the URL, the method and every header as
 * key/value pairs, JSON, then URL-encoded).
 */
export async function signedCallerIdentityToken(verificationUrl: string, audience: string, region: string, credentials: AwsCredentials, now: number): Promise<string> {
  const named = verificationUrl.replaceAll('{region}', region);
  const address = /^https?:\/\//.test(named) ? named : `https://${named}`;
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw unavailable(`cannot be proven: credential_source.regional_cred_verification_url is not a URL`);
  }
  const signer = new SignatureV4({
    service: 'sts',
    region,
    credentials,
    sha256: Sha256,
    // The request has no body; a payload hash header is not part of what STS expects.
    applyChecksum: false,
  });
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname === '' ? '/' : url.pathname,
      query,
      headers: { host: url.host, [TARGET_RESOURCE_HEADER]: audience },
      body: '',
    },
    { signingDate: new Date(now) },
  );
  const headers = Object.entries(signed.headers as Record<string, string>).map(([key, value]) => ({ key, value }));
  return encodeURIComponent(JSON.stringify({ url: address, method: 'POST', headers, body: '' }));
}

/**
 * What in a subject token made here must not be repeated should an answer echo it: the session token and the
 * signature, as they appear in the token's JSON.
 */
export function secretsOfCallerIdentityToken(subjectToken: string): string[] {
  try {
    const parsed = JSON.parse(decodeURIComponent(subjectToken)) as { headers: Array<{ key: string; value: string }> };
    return parsed.headers.filter((header) => header.key === 'x-amz-security-token' || header.key === 'authorization').map((header) => header.value);
  } catch {
    return [];
  }
}
