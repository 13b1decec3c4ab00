/**
 * The host's own AWS credentials, for Bedrock keys that carry none: the AWS SDK's default chain (environment
 * variables, SSO, web identity as EKS sets it up, the shared files, ECS / EKS Pod Identity container credentials, the
 * EC2 instance role), which caches what it finds and renews it before it expires. The chain reads its own variables
 * and files; Tollgate passes it nothing.
 */
import type { AwsCredentialSource } from '../spec/provider.js';

/**
 * A source of the host's credentials, loading the AWS SDK's chain on first use only: a gateway without such keys
 * never loads it.
 */
export function hostAwsCredentials(): AwsCredentialSource {
  let provider: Promise<AwsCredentialSource> | undefined;
  return async () => {
    provider ??= import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) => defaultProvider());
    const credentials = await (await provider)();
    return {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
    };
  };
}
