/**
 * A local stand-in for the EC2 instance metadata service, in its IMDSv2-only mode (what new instances default to):
 * a session token from `PUT /latest/api/token` (its lifetime, 1–21,600 s, in `x-aws-ec2-metadata-token-ttl-seconds`;
 * refused when the request carries `X-Forwarded-For`, as IMDS refuses anything a proxy relayed), then reads that carry
 * it in `x-aws-ec2-metadata-token` (401 without it or with another): the instance's availability zone, its role's
 * name and the role's temporary credentials, in IMDS's own shapes (text, and the credentials' JSON document).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { startMockServer } from './mock-server.js';

export interface AwsMetadataMockOptions {
  availabilityZone: string;
  role: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export interface AwsMetadataMock {
  baseUrl: string;
  /** Each request as it arrived: method, path and headers. */
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials';

/** Starts the mock on an ephemeral loopback port. */
export async function startAwsMetadataMock(options: AwsMetadataMockOptions): Promise<AwsMetadataMock> {
  const sessions = new Set<string>();
  const requests: AwsMetadataMock['requests'] = [];
  const server = await startMockServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    requests.push({ method: request.method ?? 'GET', path, headers: request.headers });
    const answer = (status: number, body: string, type = 'text/plain'): void => {
      response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      response.end(body);
    };
    if (request.method === 'PUT' && path === '/latest/api/token') {
      if (request.headers['x-forwarded-for'] !== undefined) return answer(403, 'Forbidden');
      const ttl = Number(request.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return answer(400, 'Bad Request');
      const token = `AQAEAimdsv2-${sessions.size + 1}-${Math.random().toString(36).slice(2)}==`;
      sessions.add(token);
      return answer(200, token);
    }
    if (request.method !== 'GET') return answer(405, 'Method Not Allowed');
    const session = request.headers['x-aws-ec2-metadata-token'];
    if (typeof session !== 'string' || !sessions.has(session)) return answer(401, 'Unauthorized');
    if (path === '/latest/meta-data/placement/availability-zone') return answer(200, options.availabilityZone);
    if (path === CREDENTIALS_PATH || path === `${CREDENTIALS_PATH}/`) return answer(200, options.role);
    if (path === `${CREDENTIALS_PATH}/${options.role}`) {
      const now = Date.now();
      return answer(
        200,
        JSON.stringify(
          {
            Code: 'Success',
            LastUpdated: new Date(now).toISOString().replace(/\.\d{3}/, ''),
            Type: 'AWS-HMAC',
            AccessKeyId: options.credentials.accessKeyId,
            SecretAccessKey: options.credentials.secretAccessKey,
            Token: options.credentials.sessionToken,
            Expiration: new Date(now + 6 * 3600_000).toISOString().replace(/\.\d{3}/, ''),
          },
          null,
          2,
        ),
      );
    }
    return answer(404, 'Not Found');
  });
  return { baseUrl: server.baseUrl, requests, close: () => server.close() };
}
