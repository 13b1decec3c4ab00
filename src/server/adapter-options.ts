/** The adapters' settings from the validated configuration, with the host's Azure, AWS and Google identities made readable. */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/environment.js';
import type { AdapterOptions, AzureIdentityOptions, GoogleIdentityOptions } from '../spec/provider.js';
import { hostAwsCredentials } from './aws-host-credentials.js';

/**
 * The adapter options of a configuration. The workload identity's token file is read at each token request rather
 * than once: Kubernetes replaces it before the token in it expires.
 */
export function adapterOptionsOf(config: Pick<Config, 'azureAuthorityHost' | 'azureIdentity' | 'googleIdentity'>): AdapterOptions {
  const sources = config.azureIdentity;
  const identity: AzureIdentityOptions = {};
  const tokenFile = sources.federatedTokenFile;
  if (tokenFile !== undefined) identity.readFederatedToken = () => readFile(tokenFile, 'utf8');
  if (sources.identityEndpoint !== undefined) identity.identityEndpoint = sources.identityEndpoint;
  if (sources.imdsHost !== undefined) identity.imdsHost = sources.imdsHost;
  if (sources.clientId !== undefined) identity.clientId = sources.clientId;
  if (sources.tenantId !== undefined) identity.tenantId = sources.tenantId;
  const google: GoogleIdentityOptions = {};
  const applicationCredentials = config.googleIdentity.applicationCredentialsFile;
  if (applicationCredentials !== undefined) {
    google.readApplicationCredentials = () => readFile(applicationCredentials, 'utf8');
    // Only that file, which the operator controls, may name a subject token file (workload identity federation).
    google.readCredentialSourceFile = (file) => readFile(file, 'utf8');
  }
  if (config.googleIdentity.metadataHost !== undefined) google.metadataHost = config.googleIdentity.metadataHost;
  if (Object.keys(config.googleIdentity.awsEnvironment).length > 0) google.awsEnvironment = config.googleIdentity.awsEnvironment;
  return {
    ...(config.azureAuthorityHost ? { azureAuthorityHost: config.azureAuthorityHost } : {}),
    azureIdentity: identity,
    awsCredentials: hostAwsCredentials(),
    googleIdentity: google,
  };
}
