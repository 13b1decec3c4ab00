import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gatewayErrorOf } from '../../../test/support/gateway-error-of.js';
import { keyCredentialProblem, parseGoogleCredential } from './google-credential.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const serviceAccount = { type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: privateKey, quota_project_id: 'sa-billing' };
const user = { type: 'authorized_user', client_id: 'c.apps.googleusercontent.com', client_secret: 'user-secret-0123456789', refresh_token: '1//user-refresh-0123456789', quota_project_id: 'user-billing' };
const external = {
  type: 'external_account',
  audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/o',
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  token_url: 'https://sts.googleapis.com/v1/token',
  credential_source: { file: '/var/run/token' },
};

describe('parseGoogleCredential', () => {
  it('reads each type with the quota project the file names', () => {
    expect(parseGoogleCredential(JSON.stringify(serviceAccount), 'k', 'key')).toMatchObject({ type: 'service_account', account: { clientEmail: 'sa@p.iam.gserviceaccount.com' }, quotaProject: 'sa-billing' });
    expect(parseGoogleCredential(JSON.stringify(user), 'k', 'key')).toMatchObject({ type: 'authorized_user', user: { clientId: user.client_id }, quotaProject: 'user-billing' });
    expect(parseGoogleCredential(JSON.stringify(external), 'k', 'host')).toMatchObject({ type: 'external_account', external: { source: { kind: 'file', path: '/var/run/token' } } });
    // No type: an older service-account key file.
    const { type: _type, quota_project_id: _project, ...untyped } = serviceAccount;
    expect(parseGoogleCredential(JSON.stringify(untyped), 'k', 'key')).not.toHaveProperty('quotaProject');
  });

  it("takes workload identity federation only from the host's file", () => {
    const failure = gatewayErrorOf(() => parseGoogleCredential(JSON.stringify(external), 'vertex-main', 'key'));
    expect(failure).toMatchObject({ status: 500, code: 'invalid_provider_credentials' });
    expect(failure.message).toMatch(/^The Vertex key 'vertex-main' has unusable Google credentials: external_account credentials \(workload identity federation\) are taken only from the GOOGLE_APPLICATION_CREDENTIALS file/);
  });

  it('names an unknown type with the types the origin takes, and a broken file without quoting it', () => {
    const other = JSON.stringify({ type: 'impersonated_service_account', source_credentials: user });
    expect(gatewayErrorOf(() => parseGoogleCredential(other, 'k', 'key')).message).toMatch(/type is 'impersonated_service_account', expected 'service_account' or 'authorized_user'\.$/);
    expect(gatewayErrorOf(() => parseGoogleCredential(other, 'k', 'host')).message).toMatch(/expected 'service_account', 'authorized_user' or 'external_account'\.$/);
    const broken = gatewayErrorOf(() => parseGoogleCredential(JSON.stringify(user).slice(0, -30), 'k', 'key'));
    expect(broken.message).toMatch(/not valid JSON/);
    expect(broken.message).not.toContain('user-secret');
    expect(gatewayErrorOf(() => parseGoogleCredential(JSON.stringify({ ...user, client_secret: '' }), 'k', 'key')).message).toMatch(/the authorized_user credentials lack client_secret\.$/);
  });
});

describe('keyCredentialProblem', () => {
  it('passes service accounts, complete authorized_user files, and text that is not JSON (left to the request)', () => {
    expect(keyCredentialProblem(JSON.stringify(serviceAccount))).toBeUndefined();
    expect(keyCredentialProblem(JSON.stringify({ project_id: 'p', private_key: 'k' }))).toBeUndefined();
    expect(keyCredentialProblem(JSON.stringify(user))).toBeUndefined();
    expect(keyCredentialProblem('opaque-secret')).toBeUndefined();
  });

  it('names what a request would refuse, without quoting the text', () => {
    expect(keyCredentialProblem(JSON.stringify(external))).toMatch(/^holds external_account credentials \(workload identity federation\), which are taken only from the GOOGLE_APPLICATION_CREDENTIALS file/);
    expect(keyCredentialProblem(JSON.stringify({ ...user, refresh_token: undefined, client_id: '' }))).toBe('is an authorized_user credential without client_id, refresh_token');
    expect(keyCredentialProblem(JSON.stringify({ type: 'gdch_service_account' }))).toBe("has type 'gdch_service_account'; a key's credentials are of type 'service_account' or 'authorized_user'");
    const broken = keyCredentialProblem(` ${JSON.stringify(user).slice(0, -2)}`);
    expect(broken).toBe('is not valid JSON (a Google credential file is expected)');
  });
});
