import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/environment.js';
import { adapterOptionsOf } from './adapter-options.js';

const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-identity-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('adapterOptionsOf', () => {
  it("reads the workload identity's token file at each request, as Kubernetes rotates it", async () => {
    const file = path.join(directory, 'azure-identity-token');
    writeFileSync(file, 'first-token\n');
    const options = adapterOptionsOf(loadConfig({ AZURE_FEDERATED_TOKEN_FILE: file, AZURE_AUTHORITY_HOST: 'https://login.example' }));
    expect(options.azureAuthorityHost).toBe('https://login.example');
    expect(await options.azureIdentity!.readFederatedToken!()).toBe('first-token\n');
    writeFileSync(file, 'rotated-token\n');
    expect(await options.azureIdentity!.readFederatedToken!()).toBe('rotated-token\n');
  });

  it("takes App Service's endpoint only with its header, and the metadata service's host when moved", () => {
    const appService = adapterOptionsOf(loadConfig({ IDENTITY_ENDPOINT: 'http://localhost:42356/msi/token', IDENTITY_HEADER: 'header-secret' }));
    expect(appService.azureIdentity).toEqual({ identityEndpoint: { url: 'http://localhost:42356/msi/token', header: 'header-secret' } });
    expect(adapterOptionsOf(loadConfig({ IDENTITY_ENDPOINT: 'http://localhost:42356/msi/token' })).azureIdentity).toEqual({});
    expect(adapterOptionsOf(loadConfig({ AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://10.0.0.9' })).azureIdentity).toEqual({ imdsHost: 'http://10.0.0.9' });
    expect(adapterOptionsOf(loadConfig({}))).toEqual({ azureIdentity: {}, awsCredentials: expect.any(Function), googleIdentity: {} });
  });

  it('hands the Azure identity the environment names (AZURE_CLIENT_ID, AZURE_TENANT_ID) to the adapters', () => {
    const named = adapterOptionsOf(loadConfig({ AZURE_CLIENT_ID: ' 00000000-aaaa-bbbb-cccc-000000000001 ', AZURE_TENANT_ID: 'contoso.onmicrosoft.com' }));
    expect(named.azureIdentity).toEqual({ clientId: '00000000-aaaa-bbbb-cccc-000000000001', tenantId: 'contoso.onmicrosoft.com' });
    expect(adapterOptionsOf(loadConfig({ AZURE_CLIENT_ID: '', AZURE_TENANT_ID: ' ' })).azureIdentity).toEqual({});
  });

  it('refuses Azure ids that cannot be ids, naming the variable', () => {
    expect(() => loadConfig({ AZURE_CLIENT_ID: '"00000000-aaaa-bbbb-cccc-000000000001"' })).toThrow(/AZURE_CLIENT_ID: must be a client id/);
    expect(() => loadConfig({ AZURE_TENANT_ID: 'contoso tenant' })).toThrow(/AZURE_TENANT_ID: must be a tenant id or domain/);
  });

  it('refuses identity endpoints that are not http(s) URLs, without showing them', () => {
    expect(() => loadConfig({ IDENTITY_ENDPOINT: 'localhost:42356', IDENTITY_HEADER: 'h' })).toThrow(/IDENTITY_ENDPOINT: must be an http\(s\) URL/);
    expect(() => loadConfig({ AZURE_POD_IDENTITY_AUTHORITY_HOST: 'ftp://imds' })).toThrow(/AZURE_POD_IDENTITY_AUTHORITY_HOST: must be an http\(s\) URL/);
  });

  it("reads GOOGLE_APPLICATION_CREDENTIALS's file, and the subject token files it names, only when it is set", async () => {
    const credentials = path.join(directory, 'application-credentials.json');
    const subjectToken = path.join(directory, 'subject-token');
    writeFileSync(credentials, '{"type":"external_account"}');
    writeFileSync(subjectToken, 'first-subject-token');
    const google = adapterOptionsOf(loadConfig({ GOOGLE_APPLICATION_CREDENTIALS: credentials })).googleIdentity!;
    expect(await google.readApplicationCredentials!()).toBe('{"type":"external_account"}');
    expect(await google.readCredentialSourceFile!(subjectToken)).toBe('first-subject-token');
    writeFileSync(subjectToken, 'rotated-subject-token');
    expect(await google.readCredentialSourceFile!(subjectToken)).toBe('rotated-subject-token');
    expect(adapterOptionsOf(loadConfig({})).googleIdentity).toEqual({});
  });

  it('hands the AWS variables that are set to Google federation from AWS, AWS_REGION before AWS_DEFAULT_REGION', () => {
    const keys = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-example', AWS_SESSION_TOKEN: 'session-example' };
    expect(adapterOptionsOf(loadConfig({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1', ...keys })).googleIdentity).toEqual({
      awsEnvironment: { region: 'eu-west-1', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example', sessionToken: 'session-example' },
    });
    expect(adapterOptionsOf(loadConfig({ AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: ' ' })).googleIdentity).toEqual({ awsEnvironment: { region: 'us-east-1' } });
  });
});
