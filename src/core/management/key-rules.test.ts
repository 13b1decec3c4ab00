/** The credential rules a key must meet (seed 002), for the shapes each adapter type accepts without a value. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../spec/errors.js';
import type { ProviderKeyInput } from '../../spec/schemas/provider-key.js';
import { buildKeyRecord } from './key-rules.js';
import { effectiveProvider } from './provider-settings.js';

const endpoint = 'https://contoso.openai.azure.com';

/** The record the rules build for an Azure key, or the error they refuse it with. */
function azureKey(input: ProviderKeyInput): ReturnType<typeof buildKeyRecord> | GatewayError {
  try {
    return buildKeyRecord(input, { provider: effectiveProvider('azure', undefined)!, existing: undefined, id: 'key-1', now: '2025-01-01T00:00:00Z', pricingStructureExists: () => false });
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

describe('Azure key rules', () => {
  it("accept a key with no value and no Entra credentials at all: the host's default identity", () => {
    const record = azureKey({ name: 'host-identity', azure_key_config: { endpoint } });
    expect(record).not.toBeInstanceOf(GatewayError);
    expect(record).toMatchObject({ value: null, azure_key_config: { endpoint: { kind: 'value', value: endpoint }, client_id: null, client_secret: null, tenant_id: null } });
    // Its own tenant, for the workload identity the environment's client id names.
    expect(azureKey({ name: 'host-identity-tenant', azure_key_config: { endpoint, tenant_id: 'contoso-tenant' } })).not.toBeInstanceOf(GatewayError);
  });

  it('still accept the shapes that name a client id, and an api-key', () => {
    for (const azure_key_config of [
      { endpoint, client_id: 'c', client_secret: 'entra-secret-0123456789', tenant_id: 't' },
      { endpoint, client_id: 'c', tenant_id: 't' },
      { endpoint, client_id: 'c' },
    ]) {
      expect(azureKey({ name: 'entra', azure_key_config })).not.toBeInstanceOf(GatewayError);
    }
    expect(azureKey({ name: 'api-key', value: 'azure-key-0123456789', azure_key_config: { endpoint } })).not.toBeInstanceOf(GatewayError);
  });

  it('refuse a client secret without its client id, saying what it needs', () => {
    for (const azure_key_config of [
      { endpoint, client_secret: 'entra-secret-0123456789', tenant_id: 't' },
      { endpoint, client_secret: 'entra-secret-0123456789' },
    ]) {
      const refusal = azureKey({ name: 'secret-alone', azure_key_config });
      expect(refusal).toBeInstanceOf(GatewayError);
      expect(refusal).toMatchObject({ status: 400, param: 'azure_key_config.client_id' });
      expect((refusal as GatewayError).message).toMatch(/client_secret needs client_id and tenant_id/);
      expect((refusal as GatewayError).message).not.toContain('entra-secret');
    }
  });

  it('refuse a client secret without its tenant, and a key without an endpoint', () => {
    expect(azureKey({ name: 'no-tenant', azure_key_config: { endpoint, client_id: 'c', client_secret: 'entra-secret-0123456789' } })).toMatchObject({
      status: 400,
      param: 'azure_key_config.tenant_id',
    });
    expect(azureKey({ name: 'no-endpoint', azure_key_config: { client_id: 'c' } })).toMatchObject({ status: 400, param: 'azure_key_config.endpoint' });
    expect(azureKey({ name: 'no-config' })).toMatchObject({ status: 400, param: 'azure_key_config.endpoint' });
  });
});
