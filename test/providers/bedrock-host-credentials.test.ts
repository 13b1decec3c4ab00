/**
 * A Bedrock key with neither an API key nor access keys signs with the host's own AWS credentials, found by the AWS
 * SDK's default chain as on ECS or EKS Pod Identity: a container credentials endpoint (here a local one, named by
 * AWS_CONTAINER_CREDENTIALS_FULL_URI with its authorization token) hands out temporary credentials, which the chain
 * caches until shortly before they expire. The Bedrock mock recomputes every signature from those credentials and
 * demands their session token. The chain reads the process's environment, so this file sets the variables it reads
 * (and hides any the machine has) for its own process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAwsCredentials } from '../../src/server/aws-host-credentials.js';
import { startBedrockMock, type BedrockMock } from '../mocks/bedrock-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { converseRequests } from './bedrock-support.js';

const role = { accessKeyId: 'ASIAHOSTROLE00000001', secretAccessKey: 'host-role-secret-0001', sessionToken: 'host-role-session-0001' };
const containerToken = 'container-authorization-token-0001';
const claude = 'anthropic.claude-3-5-haiku-20241022-v1:0';
/** The variables the AWS SDK's chain reads: set for this file's process, the machine's own put back afterwards. */
const chainVariables = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_EC2_METADATA_DISABLED',
];
const saved = new Map(chainVariables.map((name) => [name, process.env[name]]));

let credentialsEndpoint: Server;
const credentialRequests: Array<{ authorization: string | undefined }> = [];
let mock: BedrockMock;
let tollgate: LiveGateway;
let keyId: string;

const openai = () => new OpenAI({ apiKey: testAdminKey, baseURL: `${tollgate.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': keyId } });

beforeAll(async () => {
  credentialsEndpoint = createServer((request, response) => {
    credentialRequests.push({ authorization: request.headers.authorization });
    if (request.headers.authorization !== containerToken) {
      response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Forbidden' }));
      return;
    }
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ AccessKeyId: role.accessKeyId, SecretAccessKey: role.secretAccessKey, Token: role.sessionToken, Expiration: expiration }));
  });
  await new Promise<void>((resolve) => credentialsEndpoint.listen(0, '127.0.0.1', resolve));
  const port = (credentialsEndpoint.address() as AddressInfo).port;
  for (const name of chainVariables) delete process.env[name];
  // No shared files: the chain must find nothing before the container's endpoint.
  const nowhere = path.join(os.tmpdir(), 'tollgate-no-aws-files', 'missing');
  process.env.AWS_CONFIG_FILE = nowhere;
  process.env.AWS_SHARED_CREDENTIALS_FILE = nowhere;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${port}/v1/credentials`;
  process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = containerToken;

  mock = await startBedrockMock({ credentials: role, region: 'eu-central-1' });
  tollgate = await startLiveGateway({ adapterOptions: { awsCredentials: hostAwsCredentials() } });
  await tollgate.configureProvider('bedrock', { network_config: { base_url: mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
  keyId = await tollgate.addKey('bedrock', { name: 'host-role', bedrock_key_config: { region: 'eu-central-1' } });
});

afterAll(async () => {
  await tollgate?.dispose();
  await mock?.close();
  await new Promise((resolve) => credentialsEndpoint?.close(resolve));
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("a Bedrock key signing with the host's credentials", () => {
  it("signs with the container's temporary credentials and their session token, fetched once for several requests", async () => {
    for (const prompt of ['first', 'second']) {
      const completion = await openai().chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: prompt }] });
      expect(completion.choices[0]!.message.content).toBeTruthy();
      const sent = converseRequests(mock).at(-1)!;
      expect(sent.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${role.accessKeyId}/\\d{8}/eu-central-1/bedrock/aws4_request`));
      expect(sent.headers['x-amz-security-token']).toBe(role.sessionToken);
    }
    expect(credentialRequests).toEqual([{ authorization: containerToken }]);
  });

  it('embeds with the same credentials', async () => {
    const result = await openai().embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'host role', encoding_format: 'float' });
    expect(result.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(credentialRequests).toHaveLength(1);
  });

  it('answers 503 naming what it looked for, when the host has no credentials to give', async () => {
    const bare = await startLiveGateway({ adapterOptions: { awsCredentials: () => Promise.reject(new Error('Could not load credentials from any providers')) } });
    try {
      await bare.configureProvider('bedrock', { network_config: { base_url: mock.baseUrl, max_retries: 0 } });
      const id = await bare.addKey('bedrock', { name: 'no-role', bedrock_key_config: { region: 'eu-central-1' } });
      const error = await new OpenAI({ apiKey: testAdminKey, baseURL: `${bare.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': id } })
        .chat.completions.create({ model: `bedrock/${claude}`, messages: [{ role: 'user', content: 'no role' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      const refusal = error as InstanceType<typeof OpenAI.APIError>;
      expect(refusal.status).toBe(503);
      expect(refusal.code).toBe('provider_credentials_missing');
      expect(refusal.message).toContain('Could not load credentials from any providers');
      expect(refusal.message).toContain("credentials of the host Tollgate runs on");
    } finally {
      await bare.dispose();
    }
  });
});
