/**
 * Access tokens by workload identity federation (an `external_account` credential, AIP-4117): a token the host holds
 * from another identity provider (a Kubernetes service-account token, GitHub Actions' OIDC token, Azure's managed
 * identity token), read from a file or a local URL, is exchanged at Google's Security Token Service (RFC 8693) for a
 * federated access token; when the file names a service account to impersonate, that token then buys the service
 * account's own from IAM Credentials' generateAccessToken. On AWS the subject token is a GetCallerIdentity request
 * signed with the host's AWS credentials (aws-subject-token.ts). The executable source (which runs a program) and
 * the certificate source are refused.
 */
import { errors, type GatewayError } from '../../spec/errors.js';
import type { AwsEnvironment, HttpSend, UpstreamRequest } from '../../spec/provider.js';
import { parseAwsSource, resolveAwsIdentity, secretsOfCallerIdentityToken, signedCallerIdentityToken, type AwsSubjectTokenSource } from './aws-subject-token.js';
import type { IssuedToken } from './token-cache.js';
import { googleTokenRefused, readOAuthTokenReply, sendForToken } from './token-endpoint.js';

/** Google's Security Token Service, for a file that names no `token_url`. */
export const GOOGLE_STS_ENDPOINT = 'https://sts.googleapis.com/v1/token';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** generateAccessToken's default lifetime, asked for when the file sets none. */
const DEFAULT_IMPERSONATION_LIFETIME_SECONDS = 3600;
/** What Tollgate reads a subject token from, named in every refusal of another source. */
export const SUPPORTED_SOURCES =
  "a file (credential_source.file) or a URL (credential_source.url), as text or JSON, or the host's AWS identity (credential_source.environment_id 'aws1')";

/** How the subject token is written: the whole text, or one member of a JSON object. */
export type SubjectTokenFormat = { type: 'text' } | { type: 'json'; fieldName: string };

/** Where the subject token is read, again at each exchange (the platforms rotate it). */
export type SubjectTokenSource =
  | { kind: 'file'; path: string; format: SubjectTokenFormat }
  | { kind: 'url'; url: string; headers: Record<string, string>; format: SubjectTokenFormat }
  | AwsSubjectTokenSource;

/** The fields of an external_account file that the exchange needs. */
export interface ExternalAccountCredential {
  audience: string;
  subjectTokenType: string;
  tokenUrl: string;
  source: SubjectTokenSource;
  /** generateAccessToken's URL of the service account to impersonate; without it the federated token is the bearer. */
  impersonationUrl?: string;
  /** The impersonated token's lifetime (`service_account_impersonation.token_lifetime_seconds`). */
  lifetimeSeconds: number;
  /** A workforce pool's user project, sent to STS (only without impersonation, as Google's libraries do). */
  workforcePoolUserProject?: string;
  /** An OAuth client that authenticates to STS (HTTP Basic), when the file has one. */
  client?: { id: string; secret: string };
}

function text(record: Record<string, unknown>, field: string): string | undefined {
  const value = record[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function refusedSource(what: string): GatewayError {
  return errors.unavailable(
    `The external_account credentials GOOGLE_APPLICATION_CREDENTIALS names take their subject token from ${what}, which Tollgate does not support: it reads the subject token from ${SUPPORTED_SOURCES}.`,
    { code: 'provider_credentials_missing' },
  );
}

function formatOf(source: Record<string, unknown>, fail: (problem: string) => GatewayError): SubjectTokenFormat {
  const format = source.format;
  if (format === undefined || format === null) return { type: 'text' };
  if (typeof format !== 'object' || Array.isArray(format)) throw fail('credential_source.format is not an object');
  const record = format as Record<string, unknown>;
  const type = record.type ?? 'text';
  if (type === 'text') return { type: 'text' };
  if (type !== 'json') throw fail(`credential_source.format.type is '${String(type).slice(0, 40)}', expected 'text' or 'json'`);
  const fieldName = text(record, 'subject_token_field_name');
  if (fieldName === undefined) throw fail('credential_source.format.subject_token_field_name is required with the json format');
  return { type: 'json', fieldName };
}

function sourceOf(record: Record<string, unknown>, fail: (problem: string) => GatewayError): SubjectTokenSource {
  const source = record.credential_source;
  if (source === null || typeof source !== 'object' || Array.isArray(source)) throw fail('credential_source is missing');
  const fields = source as Record<string, unknown>;
  const environment = fields.environment_id;
  if (environment !== undefined) {
    const name = String(environment);
    if (!name.startsWith('aws')) throw refusedSource(`the environment '${name.slice(0, 40)}'`);
    return parseAwsSource(name, fields, fail);
  }
  if (fields.executable !== undefined) throw refusedSource('a program (credential_source.executable)');
  if (fields.certificate !== undefined) throw refusedSource('an X.509 certificate (credential_source.certificate)');
  // A file takes precedence over a URL when both are given (AIP-4117).
  const path = text(fields, 'file');
  if (path !== undefined) return { kind: 'file', path, format: formatOf(fields, fail) };
  const url = text(fields, 'url');
  if (url === undefined) throw fail(`credential_source names no subject token source; Tollgate reads ${SUPPORTED_SOURCES}`);
  const headers: Record<string, string> = {};
  if (fields.headers !== undefined && fields.headers !== null) {
    if (typeof fields.headers !== 'object' || Array.isArray(fields.headers)) throw fail('credential_source.headers is not an object');
    for (const [name, value] of Object.entries(fields.headers as Record<string, unknown>)) {
      if (typeof value !== 'string') throw fail(`credential_source.headers.${name.slice(0, 40)} is not a string`);
      headers[name.toLowerCase()] = value;
    }
  }
  return { kind: 'url', url, headers, format: formatOf(fields, fail) };
}

/**
 * Reads an external_account record; `fail` builds the error naming a malformed field (never a value). A source
 * Tollgate will not run (an executable, a certificate) is a 503 `provider_credentials_missing` naming those it does.
 */
export function parseExternalAccount(record: Record<string, unknown>, fail: (problem: string) => GatewayError): ExternalAccountCredential {
  const missing = ['audience', 'subject_token_type'].filter((field) => text(record, field) === undefined);
  if (missing.length > 0) throw fail(`the external_account credentials lack ${missing.join(', ')}`);
  const source = sourceOf(record, fail);
  const impersonation = record.service_account_impersonation;
  let lifetimeSeconds = DEFAULT_IMPERSONATION_LIFETIME_SECONDS;
  if (impersonation !== null && typeof impersonation === 'object' && (impersonation as Record<string, unknown>).token_lifetime_seconds !== undefined) {
    const lifetime = (impersonation as Record<string, unknown>).token_lifetime_seconds;
    if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime <= 0) throw fail('service_account_impersonation.token_lifetime_seconds is not a whole number of seconds');
    lifetimeSeconds = lifetime;
  }
  const clientId = text(record, 'client_id');
  const clientSecret = text(record, 'client_secret');
  const impersonationUrl = text(record, 'service_account_impersonation_url');
  const workforcePoolUserProject = text(record, 'workforce_pool_user_project');
  return {
    audience: record.audience as string,
    subjectTokenType: record.subject_token_type as string,
    tokenUrl: text(record, 'token_url') ?? GOOGLE_STS_ENDPOINT,
    source,
    lifetimeSeconds,
    ...(impersonationUrl !== undefined ? { impersonationUrl } : {}),
    ...(workforcePoolUserProject !== undefined ? { workforcePoolUserProject } : {}),
    ...(clientId !== undefined && clientSecret !== undefined ? { client: { id: clientId, secret: clientSecret } } : {}),
  };
}

/** The cache identity of a federated credential: the pool provider, the account impersonated and where the token is read. */
export function externalAccountIdentity(credential: ExternalAccountCredential): string {
  const source = credential.source.kind === 'file' ? credential.source.path : credential.source.kind === 'url' ? credential.source.url : `aws:${credential.source.verificationUrl}`;
  return `external_account:${credential.audience}\n${credential.impersonationUrl ?? ''}\n${source}`;
}

/** Where a subject token comes from, as errors name it (a path or URL, never the token). */
function describeSource(source: FileOrUrlSource): string {
  return source.kind === 'file' ? `The subject token file ${source.path} (credential_source.file)` : `The subject token URL ${source.url} (credential_source.url)`;
}

/** The sources whose subject token is read as it is (not made, as AWS's is). */
export type FileOrUrlSource = Exclude<SubjectTokenSource, AwsSubjectTokenSource>;

function subjectTokenMissing(source: FileOrUrlSource, problem: string): GatewayError {
  return errors.unavailable(`${describeSource(source)} ${problem}.`, { code: 'provider_credentials_missing' });
}

/**
 * The subject token in what the source gave: the whole text (without the surrounding white space a file written by
 * hand ends with), or, in the json format, the named member. Throws a 503 naming the source, never quoting it.
 */
export function readSubjectToken(content: string, source: FileOrUrlSource): string {
  if (source.format.type === 'text') {
    const token = content.trim();
    if (token === '') throw subjectTokenMissing(source, 'is empty');
    return token;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw subjectTokenMissing(source, 'is not JSON, as its format says');
  }
  const token = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[source.format.fieldName] : undefined;
  if (typeof token !== 'string' || token === '') throw subjectTokenMissing(source, `holds no string member '${source.format.fieldName}'`);
  return token;
}

/** What reading a subject token may need of the host: its HTTP client, its files, its clock and its AWS environment. */
export interface SubjectTokenContext {
  send: HttpSend;
  readFile: (path: string) => Promise<string>;
  now: () => number;
  awsEnvironment?: AwsEnvironment;
}

/**
 * Reads the subject token from its file or URL, or makes it from the host's AWS identity (the URLs asked with
 * DETACHED_SIGNAL: the fetch is shared).
 */
export async function fetchSubjectToken(credential: ExternalAccountCredential, context: SubjectTokenContext): Promise<string> {
  const source = credential.source;
  if (source.kind === 'aws') {
    const { region, credentials } = await resolveAwsIdentity(source, context.awsEnvironment ?? {}, context.send);
    return signedCallerIdentityToken(source.verificationUrl, credential.audience, region, credentials, context.now());
  }
  if (source.kind === 'file') {
    let content: string;
    try {
      content = await context.readFile(source.path);
    } catch (error) {
      const detail = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      throw subjectTokenMissing(source, `could not be read (${detail})`);
    }
    return readSubjectToken(content, source);
  }
  const response = await sendForToken(context.send, { method: 'GET', url: source.url, headers: { ...source.headers } }, describeSource(source));
  if (response.status !== 200) throw subjectTokenMissing(source, `answered HTTP ${response.status}`);
  return readSubjectToken(new TextDecoder().decode(response.body), source);
}

/**
 * The token exchange (RFC 8693 §2.1, as Google's STS takes it): the subject token for a federated access token
 * scoped to cloud-platform. A workforce pool's user project rides in STS's `options` only when no service account
 * is impersonated (the impersonated account's project pays then).
 */
export function stsExchangeRequest(credential: ExternalAccountCredential, subjectToken: string): UpstreamRequest {
  const form = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    audience: credential.audience,
    scope: CLOUD_PLATFORM_SCOPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    subject_token: subjectToken,
    subject_token_type: credential.subjectTokenType,
  });
  if (credential.workforcePoolUserProject !== undefined && credential.impersonationUrl === undefined) {
    form.set('options', JSON.stringify({ userProject: credential.workforcePoolUserProject }));
  }
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (credential.client !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${credential.client.id}:${credential.client.secret}`).toString('base64')}`;
  }
  return { method: 'POST', url: credential.tokenUrl, headers, body: form.toString() };
}

/** IAM Credentials' generateAccessToken, authorised by the federated token: the impersonated account's token. */
export function impersonationRequest(credential: ExternalAccountCredential, impersonationUrl: string, federatedToken: string): UpstreamRequest {
  return {
    method: 'POST',
    url: impersonationUrl,
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${federatedToken}` },
    body: JSON.stringify({ scope: [CLOUD_PLATFORM_SCOPE], lifetime: `${credential.lifetimeSeconds}s` }),
  };
}

const IMPERSONATION_SOURCE = "Google's IAM Credentials API (generateAccessToken)";

/** Reads generateAccessToken's reply, `{accessToken, expireTime}` with the expiry as an RFC 3339 time. */
export function readImpersonationReply(status: number, body: Uint8Array, secrets: readonly string[] = []): IssuedToken {
  if (status !== 200) throw googleTokenRefused(status, body, IMPERSONATION_SOURCE, secrets);
  let parsed: { accessToken?: unknown; expireTime?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder().decode(body)) as typeof parsed;
  } catch {
    throw googleTokenRefused(502, new Uint8Array(), IMPERSONATION_SOURCE);
  }
  const expiresAt = typeof parsed?.expireTime === 'string' ? Date.parse(parsed.expireTime) : Number.NaN;
  if (typeof parsed?.accessToken !== 'string' || parsed.accessToken === '' || Number.isNaN(expiresAt)) {
    throw googleTokenRefused(502, new Uint8Array(), IMPERSONATION_SOURCE);
  }
  return { token: parsed.accessToken, expiresAt };
}

/** Exchanges the host's subject token for a Google access token, impersonating the file's service account if it names one. */
export async function fetchExternalAccountToken(credential: ExternalAccountCredential, context: SubjectTokenContext): Promise<IssuedToken> {
  const subjectToken = await fetchSubjectToken(credential, context);
  const requestedAt = context.now();
  const secrets = [subjectToken, credential.client?.secret ?? '', ...(credential.source.kind === 'aws' ? secretsOfCallerIdentityToken(subjectToken) : [])];
  const exchanged = await sendForToken(context.send, stsExchangeRequest(credential, subjectToken), `Google's Security Token Service (${credential.tokenUrl})`);
  const federated = readOAuthTokenReply(exchanged, requestedAt, "Google's Security Token Service", secrets);
  const impersonationUrl = credential.impersonationUrl;
  if (impersonationUrl === undefined) return federated;
  const impersonated = await sendForToken(context.send, impersonationRequest(credential, impersonationUrl, federated.token), `${IMPERSONATION_SOURCE} (${impersonationUrl})`);
  return readImpersonationReply(impersonated.status, impersonated.body, [federated.token]);
}
