/**
 * A Vertex key with neither a service-account JSON nor a value acts as the Google identity of the host Tollgate runs
 * on (Application Default Credentials): the service account whose key file GOOGLE_APPLICATION_CREDENTIALS names, or,
 * on Google Cloud (Compute Engine, GKE with workload identity, Cloud Run), the metadata server's service account. The
 * Google mock plays both the token endpoint (checking the JWT assertion) and the metadata server (demanding its
 * header), and refuses a model call without a token it issued.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleMock, type GoogleMock } from '../mocks/google-mock.js';
import { startLiveGateway, testAdminKey, type LiveGateway } from '../support/live-gateway.js';
import { chatRequests, createKeyPair, serviceAccountFor } from './vertex-support.js';

const hostAccount = 'tollgate-host@tollgate-test.iam.gserviceaccount.com';
const vertexConfig = { project_id: 'tollgate-test', region: 'us-east5' };
const keyPair = createKeyPair();
const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-adc-'));
const credentialsFile = path.join(directory, 'application-credentials.json');

let mock: GoogleMock;

/** A gateway whose Vertex provider points at the mock and has one key without credentials of its own. */
async function gatewayWith(googleIdentity: NonNullable<Parameters<typeof startLiveGateway>[0]>['adapterOptions']): Promise<{ gateway: LiveGateway; ask: (content: string) => Promise<OpenAI.ChatCompletion> }> {
  const gateway = await startLiveGateway({ adapterOptions: googleIdentity });
  await gateway.configureProvider('vertex', { network_config: { base_url: mock.baseUrl, retry_backoff_initial: 0, retry_backoff_max: 1, max_retries: 0 } });
  const id = await gateway.addKey('vertex', { name: 'host-identity', vertex_key_config: vertexConfig });
  const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-tollgate-key-id': id } });
  return { gateway, ask: (content) => client.chat.completions.create({ model: 'vertex/gemini-2.5-flash', messages: [{ role: 'user', content }] }) };
}

beforeAll(async () => {
  mock = await startGoogleMock({ serviceAccountPublicKeyPem: keyPair.publicKeyPem, metadataServiceAccount: hostAccount });
  writeFileSync(credentialsFile, serviceAccountFor(keyPair, mock.tokenUrl, 'tollgate-adc@tollgate-test.iam.gserviceaccount.com').json);
});

afterAll(async () => {
  await mock?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe("a Vertex key acting as the host's Google identity", () => {
  it("takes the metadata server's token once, with its header, and calls Vertex with it", async () => {
    const { gateway, ask } = await gatewayWith({ googleIdentity: { metadataHost: new URL(mock.baseUrl).host } });
    try {
      const before = mock.requests.filter((request) => request.path.startsWith('/computeMetadata/')).length;
      for (const content of ['first', 'second']) expect((await ask(content)).choices[0]!.message.content).toBe(`You said: ${content}`);
      const metadataCalls = mock.requests.filter((request) => request.path.startsWith('/computeMetadata/')).slice(before);
      expect(metadataCalls).toHaveLength(1);
      expect(metadataCalls[0]!.headers['metadata-flavor']).toBe('Google');
      expect(chatRequests(mock).at(-1)!.headers.authorization).toMatch(new RegExp(`^Bearer ya29\\.metadata-\\d+-${hostAccount}$`));
    } finally {
      await gateway.dispose();
    }
  });

  it('signs as the service account GOOGLE_APPLICATION_CREDENTIALS names, reading its file once', async () => {
    let reads = 0;
    const { gateway, ask } = await gatewayWith({
      googleIdentity: {
        readApplicationCredentials: () => {
          reads += 1;
          return readFile(credentialsFile, 'utf8');
        },
      },
    });
    try {
      for (const content of ['one', 'two']) expect((await ask(content)).choices[0]!.message.content).toBe(`You said: ${content}`);
      expect(reads).toBe(1);
      expect(chatRequests(mock).at(-1)!.headers.authorization).toMatch(/^Bearer ya29\.mock-\d+-tollgate-adc@tollgate-test\.iam\.gserviceaccount\.com$/);
    } finally {
      await gateway.dispose();
    }
  });

  it('answers 503 naming where it looked, off Google Cloud (no metadata server) or with a file it cannot read', async () => {
    const closed = await startGoogleMock();
    const unreachableHost = new URL(closed.baseUrl).host;
    await closed.close();
    for (const adapterOptions of [
      { googleIdentity: { metadataHost: unreachableHost } },
      { googleIdentity: { readApplicationCredentials: () => readFile(path.join(directory, 'missing.json'), 'utf8') } },
    ]) {
      const { gateway, ask } = await gatewayWith(adapterOptions);
      try {
        const error = await ask('nobody').catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(OpenAI.APIError);
        const refusal = error as InstanceType<typeof OpenAI.APIError>;
        expect(refusal.status).toBe(503);
        expect(refusal.code).toBe('provider_credentials_missing');
        expect(refusal.message).toMatch(/metadata server|GOOGLE_APPLICATION_CREDENTIALS/);
      } finally {
        await gateway.dispose();
      }
    }
  });
});
