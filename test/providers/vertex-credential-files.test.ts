/**
 * Google credential files other than a service account's key, through the gateway: a user's refresh token
 * (`authorized_user`, what `gcloud auth application-default login` writes), as the host's GOOGLE_APPLICATION_CREDENTIALS
 * or as a key's own auth_credentials, and workload identity federation (`external_account`, the host's file only),
 * its subject token read from a file or a URL, exchanged at the Security Token Service, and, when the file says so,
 * traded for an impersonated service account's token at IAM Credentials. The Google mock plays every endpoint,
 * checking what Google checks, and refuses a Vertex call without a token it issued.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEnvironment } from '../../src/spec/provider.js';
import { startAwsMetadataMock, type AwsMetadataMock } from '../mocks/aws-metadata-mock.js';
import { startGoogleMock, type GoogleMock, type RecordedRequest } from '../mocks/google-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatRequests } from './vertex-support.js';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const vertexConfig = { project_id: 'tollgate-test', region: 'us-east5' };
const user = { clientId: '1000000000001-tollgatetest.apps.googleusercontent.com', clientSecret: 'GOCSPX-USERCLIENTSECRETMID3344', refreshToken: '1//0gUSERREFRESHTOKENMID5566-tail' };
const federation = {
  audience: '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/tollgate-pool/providers/tollgate-oidc',
  subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
  subjectToken: 'eyJhbGciOiJSUzI1NiJ9.SUBJECTTOKENMID7788.c2lnbmF0dXJl',
  serviceAccount: 'tollgate-federated@tollgate-test.iam.gserviceaccount.com',
  subjectTokenHeaders: { metadata: 'True' },
  // The pool's AWS provider, and the instance role whose temporary credentials the metadata service hands out.
  aws: {
    audience: '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/tollgate-pool/providers/tollgate-aws',
    region: 'us-east-2',
    credentials: { accessKeyId: 'ASIATOLLGATETEST0001', secretAccessKey: 'awsSECRETACCESSKEYmid4455forTollgateTests', sessionToken: 'IQoJb3JpZ2luX2VjEAWSSESSIONTOKENMID7799==' },
  },
};
const AWS_TOKEN_TYPE = 'urn:ietf:params:aws:token-type:aws4_request';
const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-credential-files-'));
const subjectTokenFile = path.join(directory, 'subject-token');

let mock: GoogleMock;
let imds: AwsMetadataMock;
// Google's clock is the gateway's, so that impersonated tokens expire on the time the gateway keeps.
let googleClock: () => number = () => Date.now();

beforeAll(async () => {
  mock = await startGoogleMock({ authorizedUser: user, federation, now: () => googleClock() });
  imds = await startAwsMetadataMock({ availabilityZone: 'us-east-2b', role: 'tollgate-gateway-role', credentials: { ...federation.aws.credentials } });
});

afterAll(async () => {
  await mock?.close();
  await imds?.close();
  rmSync(directory, { recursive: true, force: true });
});

interface Setup {
  gateway: LiveGateway;
  ask: (content: string) => Promise<OpenAI.ChatCompletion>;
  /** How often the gateway read its GOOGLE_APPLICATION_CREDENTIALS file. */
  reads: () => number;
}

/**
 * A gateway whose Vertex provider points at the mock, with one key: the host's identity (its credential file holding
 * `hostFile`, when given), or a key carrying `keyCredentials` itself.
 */
async function gatewayWith(options: { hostFile?: unknown; keyCredentials?: string; extraHeaders?: Record<string, string>; awsEnvironment?: AwsEnvironment }): Promise<Setup> {
  let reads = 0;
  const file = path.join(directory, `credentials-${Math.random().toString(36).slice(2)}.json`);
  if (options.hostFile !== undefined) writeFileSync(file, JSON.stringify(options.hostFile));
  const googleIdentity = {
    ...(options.hostFile !== undefined
      ? {
          readApplicationCredentials: () => {
            reads += 1;
            return readFile(file, 'utf8');
          },
          readCredentialSourceFile: (source: string) => readFile(source, 'utf8'),
        }
      : {}),
    // No metadata server here: a key that fell through to it would fail.
    metadataHost: '127.0.0.1:9',
    ...(options.awsEnvironment ? { awsEnvironment: options.awsEnvironment } : {}),
  };
  const gateway = await startLiveGateway({ adapterOptions: { googleIdentity } });
  googleClock = () => gateway.clock.now;
  await gateway.configureProvider('vertex', {
    network_config: { base_url: mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0, ...(options.extraHeaders ? { extra_headers: options.extraHeaders } : {}) },
  });
  const id = await gateway.addKey('vertex', { name: 'credential-file', vertex_key_config: { ...vertexConfig, ...(options.keyCredentials ? { auth_credentials: options.keyCredentials } : {}) } });
  const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': id } });
  return { gateway, reads: () => reads, ask: (content) => client.chat.completions.create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content }] }) };
}

/** The requests the mock got at `path` since `since` (an index into its record). */
function requestsAt(requestPath: string | RegExp, since: number): RecordedRequest[] {
  return mock.requests.slice(since).filter((request) => (typeof requestPath === 'string' ? request.path === requestPath : requestPath.test(request.path)));
}

async function refusal(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

function expectNoSecret(gateway: LiveGateway, text: string): void {
  for (const secret of [user.clientSecret, user.refreshToken, federation.subjectToken, federation.aws.credentials.secretAccessKey, federation.aws.credentials.sessionToken]) {
    expect(text).not.toContain(secret);
    expect(gateway.logs.join('')).not.toContain(secret);
  }
}

function userFile(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken, token_uri: mock.tokenUrl, ...extra };
}

function federationFile(credentialSource: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'external_account', audience: federation.audience, subject_token_type: federation.subjectTokenType, token_url: mock.stsUrl, credential_source: credentialSource, ...extra };
}

describe("an authorized_user credential (a developer's gcloud login)", () => {
  it('as GOOGLE_APPLICATION_CREDENTIALS: refreshes once, bills the quota project, and refreshes again only near expiry', async () => {
    const { gateway, ask, reads } = await gatewayWith({ hostFile: userFile({ quota_project_id: 'tollgate-billing' }) });
    try {
      const since = mock.requests.length;
      for (const content of ['one', 'two']) expect((await ask(content)).choices[0]!.message.content).toBe(`You said: ${content}`);
      expect(reads()).toBe(1);
      const grants = requestsAt('/token', since);
      expect(grants).toHaveLength(1);
      expect(Object.fromEntries(new URLSearchParams(grants[0]!.rawBody))).toEqual({
        grant_type: 'refresh_token',
        client_id: user.clientId,
        client_secret: user.clientSecret,
        refresh_token: user.refreshToken,
      });
      const call = chatRequests(mock).at(-1)!;
      expect(call.headers.authorization).toMatch(new RegExp(`^Bearer ya29\\.user-\\d+-${user.clientId.replace(/\./g, '\\.')}$`));
      expect(call.headers['x-goog-user-project']).toBe('tollgate-billing');

      // The mock's tokens live 3599 s; the gateway replaces them five minutes before.
      gateway.clock.now += (3599 - 5 * 60) * 1000;
      await ask('three');
      expect(requestsAt('/token', since)).toHaveLength(2);
      expectNoSecret(gateway, '');
    } finally {
      await gateway.dispose();
    }
  });

  it("as a key's own auth_credentials, with a quota project the provider's headers already set left alone", async () => {
    const { gateway, ask } = await gatewayWith({ keyCredentials: JSON.stringify(userFile({ quota_project_id: 'from-the-file' })), extraHeaders: { 'X-Goog-User-Project': 'chosen-by-operator' } });
    try {
      expect((await ask('key-owned')).choices[0]!.message.content).toBe('You said: key-owned');
      const call = chatRequests(mock).at(-1)!;
      expect(call.headers.authorization).toMatch(/^Bearer ya29\.user-/);
      expect(call.headers['x-goog-user-project']).toBe('chosen-by-operator');
    } finally {
      await gateway.dispose();
    }
  });

  it('answers a refused refresh token with a 401 naming the token endpoint and no secret', async () => {
    const revoked = '1//0gREVOKEDTOKENMID9911-tail';
    const { gateway, ask } = await gatewayWith({ hostFile: userFile({ refresh_token: revoked }) });
    try {
      const error = await refusal(ask('revoked'));
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error.code).toBe('upstream_token_refused');
      expect(error.message).toMatch(/Google's token endpoint answered HTTP 400 \(invalid_grant: Token has been expired or revoked\.\)/);
      expect(error.message).not.toContain(revoked);
      expectNoSecret(gateway, error.message);
    } finally {
      await gateway.dispose();
    }
  });
});

describe('an external_account credential (workload identity federation), from GOOGLE_APPLICATION_CREDENTIALS', () => {
  it("exchanges a file's token at STS, calls Vertex with the federated token, and reads the file again at the next exchange", async () => {
    writeFileSync(subjectTokenFile, `${federation.subjectToken}\n`);
    const { gateway, ask } = await gatewayWith({ hostFile: federationFile({ file: subjectTokenFile }) });
    try {
      const since = mock.requests.length;
      const answers = await Promise.all(['a', 'b', 'c'].map((content) => ask(content)));
      expect(answers.map((answer) => answer.choices[0]!.message.content)).toEqual(['You said: a', 'You said: b', 'You said: c']);
      const exchanges = requestsAt('/v1/token', since);
      expect(exchanges).toHaveLength(1);
      expect(exchanges[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(exchanges[0]!.rawBody))).toEqual({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        audience: federation.audience,
        scope: CLOUD_PLATFORM,
        requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        subject_token: federation.subjectToken,
        subject_token_type: federation.subjectTokenType,
      });
      expect(requestsAt(/:generateAccessToken$/, since)).toHaveLength(0);
      expect(chatRequests(mock).at(-1)!.headers.authorization).toMatch(/^Bearer ya29\.sts-\d+$/);

      // Kubernetes rotated the file to a token the pool does not trust: the next exchange reads it, and STS refuses.
      writeFileSync(subjectTokenFile, 'eyJhbGciOiJSUzI1NiJ9.ROTATEDBADMID6622.c2ln');
      gateway.clock.now += 3600 * 1000;
      const error = await refusal(ask('after rotation'));
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error.message).toBe("401 Google's Security Token Service answered HTTP 400 (invalid_grant: The provided subject token is invalid or expired.).");
      expect(requestsAt('/v1/token', since)).toHaveLength(2);
      expectNoSecret(gateway, error.message);
      expect(gateway.logs.join('')).not.toContain('ROTATEDBADMID6622');
    } finally {
      await gateway.dispose();
    }
  });

  it("reads a JSON file's member and impersonates the file's service account with the federated token", async () => {
    const jsonFile = path.join(directory, 'subject-token.json');
    writeFileSync(jsonFile, JSON.stringify({ id_token: federation.subjectToken, expires_at: 1_800_000_000 }));
    const { gateway, ask } = await gatewayWith({
      hostFile: federationFile(
        { file: jsonFile, format: { type: 'json', subject_token_field_name: 'id_token' } },
        { service_account_impersonation_url: mock.impersonationUrl(federation.serviceAccount), service_account_impersonation: { token_lifetime_seconds: 1800 }, quota_project_id: 'pool-billing' },
      ),
    });
    try {
      const since = mock.requests.length;
      for (const content of ['first', 'second']) expect((await ask(content)).choices[0]!.message.content).toBe(`You said: ${content}`);
      const exchange = requestsAt('/v1/token', since);
      expect(exchange).toHaveLength(1);
      expect(new URLSearchParams(exchange[0]!.rawBody).get('subject_token')).toBe(federation.subjectToken);
      const impersonations = requestsAt(/:generateAccessToken$/, since);
      expect(impersonations).toHaveLength(1);
      expect(impersonations[0]!.path).toBe(`/v1/projects/-/serviceAccounts/${federation.serviceAccount}:generateAccessToken`);
      expect(impersonations[0]!.headers.authorization).toMatch(/^Bearer ya29\.sts-\d+$/);
      expect(impersonations[0]!.body).toEqual({ scope: [CLOUD_PLATFORM], lifetime: '1800s' });
      const call = chatRequests(mock).at(-1)!;
      expect(call.headers.authorization).toMatch(new RegExp(`^Bearer ya29\\.impersonated-\\d+-${federation.serviceAccount}$`));
      expect(call.headers['x-goog-user-project']).toBe('pool-billing');

      // The impersonated token lives 1800 s (by generateAccessToken's expireTime): replaced five minutes before.
      gateway.clock.now += (1800 - 5 * 60 - 1) * 1000;
      await ask('still cached');
      expect(requestsAt(/:generateAccessToken$/, since)).toHaveLength(1);
      gateway.clock.now += 1000;
      await ask('renewed');
      expect(requestsAt(/:generateAccessToken$/, since)).toHaveLength(2);
    } finally {
      await gateway.dispose();
    }
  });

  it('asks a URL for the subject token with the headers the file names, as JSON or as text', async () => {
    for (const [source, expectedQuery] of [
      [{ url: `${mock.subjectTokenUrl}?format=json`, headers: { Metadata: 'True' }, format: { type: 'json', subject_token_field_name: 'access_token' } }, 'format=json'],
      [{ url: mock.subjectTokenUrl, headers: { Metadata: 'True' } }, ''],
    ] as const) {
      const { gateway, ask } = await gatewayWith({ hostFile: federationFile(source, { service_account_impersonation_url: mock.impersonationUrl(federation.serviceAccount) }) });
      try {
        const since = mock.requests.length;
        expect((await ask('from a url')).choices[0]!.message.content).toBe('You said: from a url');
        const asked = requestsAt('/subject-token', since);
        expect(asked).toHaveLength(1);
        expect(asked[0]).toMatchObject({ method: 'GET', query: expectedQuery });
        expect(asked[0]!.headers.metadata).toBe('True');
        expect(new URLSearchParams(requestsAt('/v1/token', since)[0]!.rawBody).get('subject_token')).toBe(federation.subjectToken);
        expect(requestsAt(/:generateAccessToken$/, since)[0]!.body).toEqual({ scope: [CLOUD_PLATFORM], lifetime: '3600s' });
        expect(chatRequests(mock).at(-1)!.headers.authorization).toMatch(/^Bearer ya29\.impersonated-/);
      } finally {
        await gateway.dispose();
      }
    }
  });

  it('answers 503 provider_credentials_missing when the subject token cannot be had, naming its source', async () => {
    for (const [source, pattern] of [
      [{ url: mock.subjectTokenUrl }, /^503 The subject token URL http:\/\/127\.0\.0\.1:\d+\/subject-token \(credential_source\.url\) answered HTTP 400\.$/],
      [{ file: path.join(directory, 'missing-token') }, /^503 The subject token file .*missing-token \(credential_source\.file\) could not be read \(ENOENT\)\.$/],
      [{ file: subjectTokenFile, format: { type: 'json', subject_token_field_name: 'id_token' } }, /subject token file .* is not JSON, as its format says\.$/],
    ] as const) {
      writeFileSync(subjectTokenFile, federation.subjectToken);
      const { gateway, ask } = await gatewayWith({ hostFile: federationFile(source) });
      try {
        const error = await refusal(ask('no token'));
        expect(error.status).toBe(503);
        expect(error.code).toBe('provider_credentials_missing');
        expect(error.message).toMatch(pattern);
        expectNoSecret(gateway, error.message);
      } finally {
        await gateway.dispose();
      }
    }
  });

  it('refuses the executable source with a 503 naming the sources it reads', async () => {
    const { gateway, ask } = await gatewayWith({ hostFile: federationFile({ executable: { command: '/usr/local/bin/get-token --audience pool', timeout_millis: 5000 } }) });
    try {
      const since = mock.requests.length;
      const error = await refusal(ask('unsupported'));
      expect(error.status).toBe(503);
      expect(error.code).toBe('provider_credentials_missing');
      expect(error.message).toContain('a program (credential_source.executable)');
      expect(error.message).toContain("it reads the subject token from a file (credential_source.file) or a URL (credential_source.url), as text or JSON, or the host's AWS identity");
      expect(requestsAt('/v1/token', since)).toHaveLength(0);
    } finally {
      await gateway.dispose();
    }
  });
});

describe('an external_account credential from AWS (environment_id aws1): a signed GetCallerIdentity as the subject token', () => {
  /** The file `gcloud iam workload-identity-pools create-cred-config --aws --enable-imdsv2` writes, its metadata URLs on the mock. */
  function awsFile(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type: 'external_account',
      audience: federation.aws.audience,
      subject_token_type: AWS_TOKEN_TYPE,
      token_url: mock.stsUrl,
      credential_source: {
        environment_id: 'aws1',
        region_url: `${imds.baseUrl}/latest/meta-data/placement/availability-zone`,
        url: `${imds.baseUrl}/latest/meta-data/iam/security-credentials`,
        regional_cred_verification_url: 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15',
        imdsv2_session_token_url: `${imds.baseUrl}/latest/api/token`,
      },
      ...extra,
    };
  }

  function subjectTokenOf(exchange: RecordedRequest): { url: string; method: string; headers: Array<{ key: string; value: string }> } {
    const form = new URLSearchParams(exchange.rawBody);
    expect(form.get('subject_token_type')).toBe(AWS_TOKEN_TYPE);
    return JSON.parse(decodeURIComponent(form.get('subject_token')!)) as ReturnType<typeof subjectTokenOf>;
  }

  it("signs with the instance role's credentials from IMDSv2, for the zone's region, and STS takes it", async () => {
    const { gateway, ask } = await gatewayWith({ hostFile: awsFile({ service_account_impersonation_url: mock.impersonationUrl(federation.serviceAccount) }) });
    try {
      const since = mock.requests.length;
      const metadataSince = imds.requests.length;
      for (const content of ['one', 'two']) expect((await ask(content)).choices[0]!.message.content).toBe(`You said: ${content}`);
      // One exchange for both requests: a session token first, then every read with it.
      const reads = imds.requests.slice(metadataSince);
      expect(reads.map((read) => `${read.method} ${read.path}`)).toEqual([
        'PUT /latest/api/token',
        'GET /latest/meta-data/placement/availability-zone',
        'GET /latest/meta-data/iam/security-credentials',
        'GET /latest/meta-data/iam/security-credentials/tollgate-gateway-role',
      ]);
      expect(Number(reads[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds'])).toBeGreaterThan(0);
      for (const read of reads.slice(1)) expect(read.headers['x-aws-ec2-metadata-token']).toMatch(/^AQAEAimdsv2-/);
      const exchanges = requestsAt('/v1/token', since);
      expect(exchanges).toHaveLength(1);
      const token = subjectTokenOf(exchanges[0]!);
      expect(token.url).toBe('https://sts.us-east-2.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15');
      expect(token.method).toBe('POST');
      const headers = Object.fromEntries(token.headers.map((header) => [header.key, header.value]));
      expect(headers).toMatchObject({ host: 'sts.us-east-2.amazonaws.com', 'x-goog-cloud-target-resource': federation.aws.audience, 'x-amz-security-token': federation.aws.credentials.sessionToken });
      expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIATOLLGATETEST0001\/\d{8}\/us-east-2\/sts\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token;x-goog-cloud-target-resource, Signature=[0-9a-f]{64}$/);
      expect(JSON.stringify(token)).not.toContain(federation.aws.credentials.secretAccessKey);
      expect(requestsAt(/:generateAccessToken$/, since)[0]!.headers.authorization).toMatch(/^Bearer ya29\.sts-\d+$/);
      expect(chatRequests(mock).at(-1)!.headers.authorization).toMatch(/^Bearer ya29\.impersonated-/);
      expectNoSecret(gateway, '');
    } finally {
      await gateway.dispose();
    }
  });

  it('takes the region and the access keys from the environment first, and then never asks the metadata service', async () => {
    const { accessKeyId, secretAccessKey, sessionToken } = federation.aws.credentials;
    const { gateway, ask } = await gatewayWith({ hostFile: awsFile(), awsEnvironment: { region: 'us-east-2', accessKeyId, secretAccessKey, sessionToken } });
    try {
      const since = mock.requests.length;
      const metadataSince = imds.requests.length;
      expect((await ask('from the environment')).choices[0]!.message.content).toBe('You said: from the environment');
      expect(imds.requests.length).toBe(metadataSince);
      expect(subjectTokenOf(requestsAt('/v1/token', since)[0]!).url).toBe('https://sts.us-east-2.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15');
      expect(chatRequests(mock).at(-1)!.headers.authorization).toMatch(/^Bearer ya29\.sts-\d+$/);
    } finally {
      await gateway.dispose();
    }
  });

  it("answers STS's refusal of a signature made with the wrong secret as a 401 that repeats no secret", async () => {
    const wrongSecret = 'awsWRONGSECRETmid8181forTollgateTestsXYZ';
    const { gateway, ask } = await gatewayWith({
      hostFile: awsFile(),
      awsEnvironment: { region: 'us-east-2', accessKeyId: federation.aws.credentials.accessKeyId, secretAccessKey: wrongSecret, sessionToken: federation.aws.credentials.sessionToken },
    });
    try {
      const error = await refusal(ask('wrong secret'));
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error.code).toBe('upstream_token_refused');
      expect(error.message).toMatch(/^401 Google's Security Token Service answered HTTP 400 \(invalid_grant: AWS refused the GetCallerIdentity request: InvalidSignatureException: The request signature we calculated does not match/);
      expectNoSecret(gateway, error.message);
      expect(error.message).not.toContain(wrongSecret);
      expect(gateway.logs.join('')).not.toContain(wrongSecret);
    } finally {
      await gateway.dispose();
    }
  });

  it('answers 503 provider_credentials_missing when the metadata service refuses, and for an AWS version it does not read', async () => {
    const refusedSession = awsFile({ credential_source: { ...(awsFile().credential_source as object), imdsv2_session_token_url: `${imds.baseUrl}/latest/api/nothing` } });
    for (const [file, pattern] of [
      [refusedSession, /^503 The AWS identity for workload identity federation could not be read: the instance metadata service answered HTTP 405 for an IMDSv2 session token \(http:\/\/127\.0\.0\.1:\d+\/latest\/api\/nothing\)\.$/],
      [awsFile({ credential_source: { environment_id: 'aws2' } }), /credential_source\.environment_id names AWS version 2; Tollgate reads version 1 \('aws1'\)/],
    ] as const) {
      const { gateway, ask } = await gatewayWith({ hostFile: file });
      try {
        const since = mock.requests.length;
        const error = await refusal(ask('no identity'));
        expect(error.message).toMatch(pattern);
        expect(requestsAt('/v1/token', since)).toHaveLength(0);
        expectNoSecret(gateway, error.message);
      } finally {
        await gateway.dispose();
      }
    }
  });
});

describe("the key rules on a Vertex key's own credentials", () => {
  it('take an authorized_user JSON, and refuse at creation what a request would refuse, without quoting it', async () => {
    const gateway = await startLiveGateway();
    try {
      const create = (auth_credentials: string) => gateway.request({ method: 'POST', url: '/api/providers/vertex/keys', body: { name: `k-${Math.random()}`, vertex_key_config: { ...vertexConfig, auth_credentials } } });
      expect((await create(JSON.stringify(userFile()))).status).toBe(201);
      for (const [credentials, pattern] of [
        [JSON.stringify(federationFile({ file: '/etc/hostname' })), /auth_credentials holds external_account credentials \(workload identity federation\), which are taken only from the GOOGLE_APPLICATION_CREDENTIALS file/],
        [JSON.stringify(userFile({ refresh_token: undefined })), /authorized_user credential without refresh_token/],
        [JSON.stringify({ type: 'impersonated_service_account', source_credentials: {} }), /type 'impersonated_service_account'; a key's credentials are of type 'service_account' or 'authorized_user'/],
        [`{"type":"authorized_user","client_secret":"${user.clientSecret}"`, /is not valid JSON/],
      ] as const) {
        const response = await create(credentials);
        expect(response.status).toBe(400);
        expect(response.body.error.param).toBe('vertex_key_config.auth_credentials');
        expect(response.body.error.message).toMatch(pattern);
        expect(response.text).not.toContain(user.clientSecret);
        expect(response.text).not.toContain(user.refreshToken);
      }
    } finally {
      await gateway.dispose();
    }
  });
});
