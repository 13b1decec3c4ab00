/** The credential rules of a Vertex key: the Google credential types a key may carry, checked when it is written. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../spec/errors.js';
import type { ProviderKeyInput } from '../../spec/schemas/provider-key.js';
import { buildKeyRecord } from './key-rules.js';
import { effectiveProvider } from './provider-settings.js';

const location = { project_id: 'tollgate-test', region: 'europe-west4' };
const user = { type: 'authorized_user', client_id: 'c.apps.googleusercontent.com', client_secret: 'user-secret-0123456789', refresh_token: '1//user-refresh-0123456789' };
const federation = {
  type: 'external_account',
  audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/o',
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  credential_source: { file: '/etc/shadow' },
};

/** The record the rules build for a Vertex key, or the error they refuse it with. */
function vertexKey(input: ProviderKeyInput): ReturnType<typeof buildKeyRecord> | GatewayError {
  try {
    return buildKeyRecord(input, { provider: effectiveProvider('vertex', undefined)!, existing: undefined, id: 'key-1', now: '2025-01-01T00:00:00Z', pricingStructureExists: () => false });
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

describe('Vertex key rules', () => {
  it('refuse workload identity federation in a key, naming where it belongs, and accept the types a key carries', () => {
    for (const vertex_key_config of [
      { ...location, auth_credentials: JSON.stringify({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: 'pem' }) },
      { ...location, auth_credentials: JSON.stringify({ ...user, quota_project_id: 'billing' }) },
      { ...location, auth_credentials: 'not-json-credentials' },
      // Read when used: what the variable holds is the request's to judge.
      { ...location, auth_credentials: 'env.VERTEX_CREDENTIALS' },
      location,
    ]) {
      expect(vertexKey({ name: 'vertex', vertex_key_config })).not.toBeInstanceOf(GatewayError);
    }
    expect(vertexKey({ name: 'json-value', value: JSON.stringify(user), vertex_key_config: location })).not.toBeInstanceOf(GatewayError);

    const refusal = vertexKey({ name: 'federated', vertex_key_config: { ...location, auth_credentials: JSON.stringify(federation) } });
    expect(refusal).toMatchObject({ status: 400, code: 'invalid_request', param: 'vertex_key_config.auth_credentials' });
    expect((refusal as GatewayError).message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS file, not from a key/);
    expect((refusal as GatewayError).message).not.toContain('/etc/shadow');
    // The same JSON as the value, the fallback place of a key's credentials.
    expect(vertexKey({ name: 'federated-value', value: JSON.stringify(federation), vertex_key_config: location })).toMatchObject({ status: 400, param: 'value' });
  });

  it('refuse an authorized_user JSON without its fields, another type, and broken JSON', () => {
    for (const [credentials, message] of [
      [JSON.stringify({ ...user, client_secret: undefined }), 'vertex_key_config.auth_credentials is an authorized_user credential without client_secret'],
      [JSON.stringify({ type: 'external_account_authorized_user' }), "vertex_key_config.auth_credentials has type 'external_account_authorized_user'; a key's credentials are of type 'service_account' or 'authorized_user'"],
      [JSON.stringify(user).slice(0, -1), 'vertex_key_config.auth_credentials is not valid JSON (a Google credential file is expected)'],
    ]) {
      const refusal = vertexKey({ name: 'broken', vertex_key_config: { ...location, auth_credentials: credentials } });
      expect(refusal).toMatchObject({ status: 400, message });
      expect((refusal as GatewayError).message).not.toContain(user.refresh_token);
    }
  });
});
