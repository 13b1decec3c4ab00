/**
 * Authenticates Bedrock requests: SigV4 with the key's access keys, a Bedrock API key as a bearer token, or, for a key
 * with neither, SigV4 with the credentials of the host Tollgate runs on (its role, through the AWS SDK's chain).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { errors } from '../../spec/errors.js';
import type { AwsCredentialSource, ProviderContext, UpstreamRequest } from '../../spec/provider.js';

/** The SigV4 signing name of the Bedrock runtime (the host says bedrock-runtime, the scope says bedrock). */
export const BEDROCK_SIGNING_SERVICE = 'bedrock';

/** The region used when a key carries only a Bedrock API key and no Bedrock settings. */
export const DEFAULT_BEDROCK_REGION = 'us-east-1';

/** The region a key's requests go to and are signed for. */
export function bedrockRegion(context: ProviderContext): string {
  return context.key.bedrock?.region || DEFAULT_BEDROCK_REGION;
}

/**
 * Adds authentication to a request whose body is final. Access keys take precedence: with them the request is
 * signed with SigV4 over exactly the bytes in `request.body`; otherwise `key.value` is sent as a Bedrock API key;
 * a key with neither is signed with the host's credentials from `hostCredentials`.
 */
export async function authenticateBedrockRequest(request: UpstreamRequest, context: ProviderContext, hostCredentials?: AwsCredentialSource): Promise<UpstreamRequest> {
  const settings = context.key.bedrock;
  const accessKeyId = settings?.accessKey ?? '';
  const secretAccessKey = settings?.secretKey ?? '';
  if (accessKeyId !== '' && secretAccessKey !== '') {
    return signRequest(request, context, { accessKeyId, secretAccessKey, sessionToken: settings?.sessionToken });
  }
  if (context.key.value !== '') {
    return { ...request, headers: { ...request.headers, authorization: `Bearer ${context.key.value}` } };
  }
  if (hostCredentials !== undefined) {
    const host = await hostCredentials().catch(unavailableHostCredentials);
    return signRequest(request, context, { accessKeyId: host.accessKeyId, secretAccessKey: host.secretAccessKey, sessionToken: host.sessionToken });
  }
  throw errors.internal('The Bedrock key has neither access keys nor an API key.', { code: 'provider_credentials_missing' });
}

/** The host has no AWS credentials Tollgate can find: the deployment, not the upstream, is at fault. */
function unavailableHostCredentials(error: unknown): never {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  throw errors.unavailable(
    `The host's AWS credentials could not be loaded (${detail}). A Bedrock key with neither a value nor access keys signs with the credentials of the host Tollgate runs on: its environment, web identity (EKS), container or instance role.`,
    { code: 'provider_credentials_missing' },
  );
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
}

async function signRequest(request: UpstreamRequest, context: ProviderContext, credentials: Credentials): Promise<UpstreamRequest> {
  const url = new URL(request.url);
  const signer = new SignatureV4({
    service: BEDROCK_SIGNING_SERVICE,
    region: bedrockRegion(context),
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    sha256: Sha256,
  });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const existing = query[name];
    query[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      // pathname keeps the percent-encoding of the model id; the signer encodes it once more, as SigV4 requires.
      path: url.pathname,
      query,
      // The HTTP client sends exactly url.host as the Host header, so that is what gets signed.
      headers: { ...lowerCaseKeys(request.headers), host: url.host },
      body: request.body,
    },
    { signingDate: new Date(context.now()) },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers as Record<string, string>)) {
    if (name !== 'host') headers[name] = value;
  }
  return { ...request, headers };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}
