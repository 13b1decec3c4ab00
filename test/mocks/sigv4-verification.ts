/**
 * AWS Signature Version 4, checked the way AWS checks it: the canonical request rebuilt from what arrived, the
 * signing key derived from the known secret, the signature compared. Written from AWS's description with
 * node:crypto, independently of the signer under test, for the mocks that stand in for AWS (Bedrock, and the
 * GetCallerIdentity request that Google's STS replays for workload identity federation from AWS).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A request as it arrived: header names in lower case, `query` without its `?`. */
export interface ArrivedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | undefined>;
  body: Uint8Array | string;
}

/** Whom the signature must be made by, and for what. */
export interface SigV4Expectation {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service: string;
}

/** Why AWS would refuse the request, by the exception it would name. */
export interface SigV4Problem {
  status: number;
  code: 'IncompleteSignatureException' | 'UnrecognizedClientException' | 'InvalidSignatureException';
  message: string;
}

/** What AWS would say of the request's signature: undefined when it holds. */
export function sigV4Problem(request: ArrivedRequest, expected: SigV4Expectation): SigV4Problem | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(request.headers.authorization ?? '');
  if (match === null) return { status: 400, code: 'IncompleteSignatureException', message: 'Authorization header is malformed.' };
  const [, credential = '', signedHeaderList = '', signature = ''] = match;
  const [accessKeyId, date = '', region = '', service = '', terminator] = credential.split('/');
  const { credentials } = expected;
  const unrecognised: SigV4Problem = { status: 403, code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (accessKeyId !== credentials.accessKeyId) return unrecognised;
  if (region !== expected.region) return { status: 403, code: 'InvalidSignatureException', message: 'Credential should be scoped to a valid region.' };
  if (service !== expected.service || terminator !== 'aws4_request') {
    return { status: 403, code: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${expected.service}'.` };
  }
  const amzDate = request.headers['x-amz-date'];
  if (amzDate === undefined || amzDate.slice(0, 8) !== date) {
    return { status: 403, code: 'InvalidSignatureException', message: 'Date in Credential scope does not match the X-Amz-Date header.' };
  }
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    return { status: 403, code: 'InvalidSignatureException', message: "'Host' and 'X-Amz-Date' must be signed headers." };
  }
  const token = request.headers['x-amz-security-token'];
  if ((credentials.sessionToken ?? undefined) !== token || (token !== undefined && !signedHeaders.includes('x-amz-security-token'))) return unrecognised;
  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  const declaredHash = request.headers['x-amz-content-sha256'];
  const canonicalRequest = [
    request.method,
    request.path.split('/').map(uriEncode).join('/'),
    canonicalQuery(request.query),
    signedHeaders.map((name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const computed = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (!timingSafeEqual(Buffer.from(computed), Buffer.from(signature)) || (declaredHash !== undefined && declaredHash !== payloadHash)) {
    return {
      status: 403,
      code: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return undefined;
}

/** SigV4 URI encoding: every byte but the unreserved characters, applied to the path as received. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=', 2);
      return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort((left, right) => (left[0] === right[0] ? (left[1] < right[1] ? -1 : 1) : left[0] < right[0] ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}
