import { describe, expect, it } from 'vitest';
import type { ResolvedKey } from './provider.js';
import { redactSecrets, secretsOfKey } from './redact-secrets.js';

describe('redactSecrets', () => {
  it('replaces every occurrence of every secret, and leaves short values alone', () => {
    expect(redactSecrets('key sk-abcdef123456 is wrong; sk-abcdef123456 again', ['sk-abcdef123456'])).toBe('key [redacted] is wrong; [redacted] again');
    expect(redactSecrets('the word short stays', ['short', undefined])).toBe('the word short stays');
  });
});

describe('secretsOfKey', () => {
  it('lists the value and every secret of the provider sub-configs, not the public identifiers', () => {
    const key: ResolvedKey = {
      id: 'k1',
      name: 'main',
      provider: 'bedrock',
      value: 'bedrock-api-key-0001',
      bedrock: { accessKey: 'AKIAEXAMPLE00001', secretKey: 'secret-access-key-0001', sessionToken: 'session-token-0001', region: 'us-east-1', deployments: {} },
      azure: { endpoint: 'https://example.openai.azure.com', deployments: {}, scopes: [], key2: 'azure-secondary-0001', clientSecret: 'entra-client-secret-0001', clientId: 'client-id-0001' },
      vertex: { projectId: 'project-0001', region: 'us-central1', authCredentials: '{"private_key":"-----BEGIN PRIVATE KEY-----"}', deployments: {} },
    };
    expect(secretsOfKey(key).sort()).toEqual(
      ['bedrock-api-key-0001', 'AKIAEXAMPLE00001', 'secret-access-key-0001', 'session-token-0001', 'azure-secondary-0001', 'entra-client-secret-0001', '{"private_key":"-----BEGIN PRIVATE KEY-----"}'].sort(),
    );
  });

  it('leaves out an empty value (Bedrock with access keys, keyless servers)', () => {
    expect(secretsOfKey({ id: 'k', name: 'n', provider: 'ollama', value: '' })).toEqual([]);
  });
});
