/**
 * The gateway side the malformed-reply tests share: providers keyed to their mocks without retries, and an API key
 * that allows one request at a time, so that a reservation left unsettled refuses the next request with 429.
 */
import { expect } from 'vitest';
import { immediateRetries } from '../inference/inference-helpers.js';
import { createApiKey, usageOf } from '../limits/limit-helpers.js';
import type { GoogleMock } from '../mocks/google-mock.js';
import type { LiveGateway } from '../support/live-gateway.js';
import { serviceAccountFor, type createKeyPair } from './vertex-support.js';

/**
 * Who sends the malformed-reply tests' requests: the gateway, and the API key of the test under way with the headers
 * that carry it. Each test gets a new key, so the checks ask for the client as it is at the time of each request.
 */
export interface MeteredClient {
  tollgate: LiveGateway;
  apiKeyId: string;
  clientHeaders: Record<string, string>;
}

/** A provider's network settings: each scripted reply is the attempt's one answer (no retries). */
export function withoutRetries(baseUrl?: string) {
  return { network_config: { ...(baseUrl ? { base_url: baseUrl } : {}), max_retries: 0, ...immediateRetries } };
}

/**
 * Points each provider at its mock with one key holding `value`, and Vertex at the Google mock with a service
 * account signed by `keyPair`.
 */
export async function keyProviders(
  tollgate: LiveGateway,
  keyed: ReadonlyArray<readonly [provider: string, baseUrl: string, value: string]>,
  vertex: { googleMock: GoogleMock; keyPair: ReturnType<typeof createKeyPair> },
): Promise<void> {
  for (const [provider, baseUrl, value] of keyed) {
    await tollgate.configureProvider(provider, withoutRetries(baseUrl));
    await tollgate.addKey(provider, { name: provider, value });
  }
  await tollgate.configureProvider('vertex', withoutRetries(vertex.googleMock.baseUrl));
  const account = serviceAccountFor(vertex.keyPair, vertex.googleMock.tokenUrl, 'fuzz@tollgate-test.iam.gserviceaccount.com');
  await tollgate.addKey('vertex', { name: 'vertex', vertex_key_config: { project_id: 'tollgate-test', region: 'us-east5', auth_credentials: account.json } });
}

/** A new API key allowing one request at a time, metered by tokens and requests. */
export async function singleFlightApiKey(tollgate: LiveGateway, description: string): Promise<{ id: string; secret: string }> {
  const { id, secret } = await createApiKey(tollgate, {
    description,
    consumptionLimit: { tokens: 1_000_000_000, requests: 1_000_000 },
    limitPeriod: 'MONTH',
    rateLimits: { maxConcurrent: 1 },
  });
  return { id, secret };
}

/** Checks that nothing is left reserved on the key: every request so far was settled. */
export async function expectSettled(tollgate: LiveGateway, apiKeyId: string, label: string): Promise<void> {
  const usage = await usageOf(tollgate, apiKeyId);
  expect(usage.window.reserved, `${label}: the reservation was settled`).toMatchObject({ tokens: 0, requests: 0 });
}
