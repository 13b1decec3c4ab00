import { z } from 'zod';

import type { EnvironmentReader } from '../spec/environment-reader.js';
import type { AwsEnvironment } from '../spec/provider.js';
import type { UpstreamProxy } from '../spec/upstream-proxy.js';

export type { EnvironmentReader };

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const positiveNumber = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed <= 0) {
        context.addIssue({ code: 'custom', message: `must be a positive number, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

/** A whole number from `minimum` to `maximum`; `fallback` when unset or empty. */
const wholeNumber = <Fallback extends number | undefined>(fallback: Fallback, minimum: number, maximum: number, unit?: string) =>
  z
    .string()
    .optional()
    .transform((value, context): number | Fallback => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < minimum || parsed > maximum) {
        const what = unit ? `a whole number of ${unit}` : 'a whole number';
        context.addIssue({ code: 'custom', message: `must be ${what} from ${minimum} to ${maximum}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

/** An egress proxy's URL. The message never echoes the value: it may hold the proxy's password. */
const proxyUrl = optionalText.refine((value) => {
  if (value === undefined) return true;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// proxy URL (its value is not shown: it may hold a password)');

/**
 * The Redis key prefix used before the setting existed (RedisCounters' own default); kept as the default so
 * that upgrading a deployment does not orphan the counters it already holds in Redis.
 */
export const DEFAULT_REDIS_PREFIX = 'tollgate:counters:';

const environmentSchema = z.object({
  PORT: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return 8080;
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        context.addIssue({ code: 'custom', message: `must be a port number (0-65535), got "${value}"` });
        return z.NEVER;
      }
      return port;
    }),
  HOST: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? '127.0.0.1' : value)),
  TOLLGATE_DATA_DIR: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? './data' : value)),
  DATABASE_URL: optionalText.refine(
    (value) => value === undefined || /^postgres(ql)?:\/\//.test(value),
    'must be a postgres:// or postgresql:// URL',
  ),
  REDIS_URL: optionalText.refine(
    (value) => value === undefined || /^rediss?:\/\//.test(value),
    'must be a redis:// or rediss:// URL',
  ),
  TOLLGATE_REDIS_PREFIX: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined) return DEFAULT_REDIS_PREFIX;
      // Unlike the other variables, an empty value is refused rather than read as unset: a deployment that
      // sets the variable means to separate its counters, and silently falling back to the shared default
      // would merge them with every other deployment's.
      if (value === '') {
        context.addIssue({ code: 'custom', message: `must not be empty; unset it to use the default "${DEFAULT_REDIS_PREFIX}"` });
        return z.NEVER;
      }
      // Whitespace or control characters are almost always a quoting mistake in the deployment's environment,
      // and would make the keys awkward to find with redis-cli.
      if (/[\s\p{Cc}]/u.test(value)) {
        context.addIssue({ code: 'custom', message: `must not contain whitespace or control characters, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return value;
    }),
  REDIS_COMMAND_TIMEOUT_MS: wholeNumber(undefined, 1, 600_000, 'milliseconds'),
  REDIS_COUNTER_LEASES: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '' || value === 'on') return true;
      if (value === 'off') return false;
      context.addIssue({ code: 'custom', message: `must be "on" or "off", got "${value}"` });
      return z.NEVER;
    }),
  TOLLGATE_ADMIN_KEY: optionalText.refine(
    (value) => value === undefined || value.length >= 16,
    'must be at least 16 characters long',
  ),
  TOLLGATE_ENCRYPTION_KEY: optionalText.transform((value, context) => {
    if (value === undefined) return undefined;
    const key = decodeEncryptionKey(value);
    if (key === undefined) {
      context.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hexadecimal characters or base64' });
      return z.NEVER;
    }
    return key;
  }),
  TOLLGATE_PREVIOUS_ENCRYPTION_KEYS: optionalText.transform((value, context) => {
    if (value === undefined) return [];
    const keys: Buffer[] = [];
    for (const [index, text] of value.split(',').map((part) => part.trim()).entries()) {
      const key = decodeEncryptionKey(text);
      if (key === undefined) {
        context.addIssue({ code: 'custom', message: `key ${index + 1} must be 32 bytes, as 64 hexadecimal characters or base64 (keys separated by commas)` });
        return z.NEVER;
      }
      keys.push(key);
    }
    return keys;
  }),
  TOLLGATE_CONFIG: optionalText,
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? 'info' : value.toLowerCase()))
    .pipe(z.enum(logLevels, { message: `must be one of ${logLevels.join(', ')}` })),
  AZURE_AUTHORITY_HOST: optionalText.refine(
    (value) => value === undefined || /^https?:\/\//.test(value),
    'must be an http(s) URL',
  ),
  // Where the host's own Azure identity is found, under the names Azure's hosts and the AKS webhook give them.
  AZURE_FEDERATED_TOKEN_FILE: optionalText,
  // The identity keys without a client id act as. Entra ids are GUIDs (a tenant may be named by its domain); anything
  // else is a mistake the token endpoints would only report on the first request.
  AZURE_CLIENT_ID: optionalText.refine((value) => value === undefined || /^[0-9A-Za-z._-]+$/.test(value), 'must be a client id (letters, digits, ".", "-", "_")'),
  AZURE_TENANT_ID: optionalText.refine((value) => value === undefined || /^[0-9A-Za-z.-]+$/.test(value), 'must be a tenant id or domain (letters, digits, ".", "-")'),
  IDENTITY_ENDPOINT: optionalText.refine((value) => value === undefined || /^https?:\/\//.test(value), 'must be an http(s) URL'),
  IDENTITY_HEADER: optionalText,
  AZURE_POD_IDENTITY_AUTHORITY_HOST: optionalText.refine((value) => value === undefined || /^https?:\/\//.test(value), 'must be an http(s) URL'),
  // The host's Google identity (Application Default Credentials), under the names Google's libraries read.
  GOOGLE_APPLICATION_CREDENTIALS: optionalText,
  GCE_METADATA_HOST: optionalText.refine((value) => value === undefined || /^[\w.-]+(?::\d+)?$/.test(value), 'must be a host, or a host and port'),
  // The AWS identity a Google federation file of AWS's kind signs with, under the names AWS's and Google's libraries read.
  AWS_REGION: optionalText,
  AWS_DEFAULT_REGION: optionalText,
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_SESSION_TOKEN: optionalText,
  TOLLGATE_DIEM_USD: positiveNumber(1),
  TOLLGATE_VCU_USD: positiveNumber(1),
  TOLLGATE_WORKERS: wholeNumber(1, 1, 256),
  // Up to 10 ms: a longer window only burns CPU, the wake-ups it saves are tens of microseconds.
  TOLLGATE_BUSY_POLL_MICROSECONDS: wholeNumber(0, 0, 10_000, 'microseconds'),
  // Below Kubernetes' default 30 s termination grace period, leaving time to write what the requests used.
  TOLLGATE_SHUTDOWN_GRACE_SECONDS: wholeNumber(20, 0, 86_400, 'seconds'),
  // The usual proxy variables, in both spellings; the lower-case one wins, as with curl.
  HTTP_PROXY: proxyUrl,
  http_proxy: proxyUrl,
  HTTPS_PROXY: proxyUrl,
  https_proxy: proxyUrl,
  NO_PROXY: optionalText,
  no_proxy: optionalText,
});

/** Tollgate's validated configuration. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Prefix of every limit-counter key in Redis, so that deployments sharing one Redis keep separate counters. */
  redisKeyPrefix: string;
  /** How long a Redis command may take before it fails; undefined: the counters' default. */
  redisCommandTimeoutMs: number | undefined;
  /** Whether Redis counters lease budget slices per process (REDIS_COUNTER_LEASES, default on). */
  redisCounterLeases: boolean;
  adminKey: string | undefined;
  /** 32-byte AES-256-GCM key, when configured. */
  encryptionKey: Buffer | undefined;
  /** Keys secrets may still be sealed with after a rotation: read, never written (each 32 bytes). */
  previousEncryptionKeys: Buffer[];
  configFile: string | undefined;
  logLevel: (typeof logLevels)[number];
  azureAuthorityHost: string | undefined;
  /** Where the host's Azure identity is found, for Azure keys with neither a secret nor an api-key. */
  azureIdentity: AzureIdentitySources;
  /** Where the host's Google identity is found, for Vertex keys with no service account of their own. */
  googleIdentity: { applicationCredentialsFile: string | undefined; metadataHost: string | undefined; awsEnvironment: AwsEnvironment };
  diemUsd: number;
  vcuUsd: number;
  workers: number;
  /** How long each worker keeps polling for I/O after traffic instead of sleeping (µs); 0: off. */
  busyPollMicroseconds: number;
  /** How long a stop waits for the requests in flight before it closes their connections (TOLLGATE_SHUTDOWN_GRACE_SECONDS). */
  shutdownGraceSeconds: number;
  /** The egress proxy for upstream requests; undefined when neither HTTP_PROXY nor HTTPS_PROXY is set. */
  upstreamProxy: UpstreamProxy | undefined;
}

/** The variables that locate this host's Azure identity (the file is read when a token is needed). */
export interface AzureIdentitySources {
  /** AKS workload identity: the projected service account token's file. */
  federatedTokenFile: string | undefined;
  /** App Service / Container Apps: the managed identity endpoint and its header secret, when both are set. */
  identityEndpoint: { url: string; header: string } | undefined;
  /** The instance metadata service's origin, when not the standard one. */
  imdsHost: string | undefined;
  /** AZURE_CLIENT_ID: the workload identity's application, or the user-assigned managed identity, of keys naming no client id. */
  clientId: string | undefined;
  /** AZURE_TENANT_ID: the workload identity's tenant, for keys naming none. */
  tenantId: string | undefined;
}

/** Raised when the environment is invalid; its message names every bad variable. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * Validates the environment once, reporting every bad variable together.
 * Secret values are never echoed in the messages.
 */
export function loadConfig(environment: Record<string, string | undefined>): Config {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigurationError(problems);
  }
  const value = result.data;
  if (value.TOLLGATE_WORKERS > 1 && value.REDIS_URL === undefined) {
    throw new ConfigurationError([
      'TOLLGATE_WORKERS: several workers share limits through Redis; set REDIS_URL or use TOLLGATE_WORKERS=1',
    ]);
  }
  if (value.DATABASE_URL !== undefined && value.TOLLGATE_ENCRYPTION_KEY === undefined) {
    throw new ConfigurationError([
      'TOLLGATE_ENCRYPTION_KEY: required with DATABASE_URL (PostgreSQL), so that every gateway process can read the secrets it stores',
    ]);
  }
  return {
    port: value.PORT,
    host: value.HOST,
    dataDir: value.TOLLGATE_DATA_DIR,
    databaseUrl: value.DATABASE_URL,
    redisUrl: value.REDIS_URL,
    redisKeyPrefix: value.TOLLGATE_REDIS_PREFIX,
    redisCommandTimeoutMs: value.REDIS_COMMAND_TIMEOUT_MS,
    redisCounterLeases: value.REDIS_COUNTER_LEASES,
    adminKey: value.TOLLGATE_ADMIN_KEY,
    encryptionKey: value.TOLLGATE_ENCRYPTION_KEY,
    previousEncryptionKeys: value.TOLLGATE_PREVIOUS_ENCRYPTION_KEYS,
    configFile: value.TOLLGATE_CONFIG,
    logLevel: value.LOG_LEVEL,
    azureAuthorityHost: value.AZURE_AUTHORITY_HOST,
    azureIdentity: {
      federatedTokenFile: value.AZURE_FEDERATED_TOKEN_FILE,
      identityEndpoint: value.IDENTITY_ENDPOINT !== undefined && value.IDENTITY_HEADER !== undefined ? { url: value.IDENTITY_ENDPOINT, header: value.IDENTITY_HEADER } : undefined,
      imdsHost: value.AZURE_POD_IDENTITY_AUTHORITY_HOST,
      clientId: value.AZURE_CLIENT_ID,
      tenantId: value.AZURE_TENANT_ID,
    },
    googleIdentity: {
      applicationCredentialsFile: value.GOOGLE_APPLICATION_CREDENTIALS,
      metadataHost: value.GCE_METADATA_HOST,
      awsEnvironment: awsEnvironmentOf(value),
    },
    diemUsd: value.TOLLGATE_DIEM_USD,
    vcuUsd: value.TOLLGATE_VCU_USD,
    workers: value.TOLLGATE_WORKERS,
    busyPollMicroseconds: value.TOLLGATE_BUSY_POLL_MICROSECONDS,
    shutdownGraceSeconds: value.TOLLGATE_SHUTDOWN_GRACE_SECONDS,
    upstreamProxy: upstreamProxyOf(value),
  };
}

/** The AWS variables that are set, AWS_REGION before AWS_DEFAULT_REGION as in AWS's own libraries. */
function awsEnvironmentOf(value: z.infer<typeof environmentSchema>): AwsEnvironment {
  const region = value.AWS_REGION ?? value.AWS_DEFAULT_REGION;
  return {
    ...(region !== undefined ? { region } : {}),
    ...(value.AWS_ACCESS_KEY_ID !== undefined ? { accessKeyId: value.AWS_ACCESS_KEY_ID } : {}),
    ...(value.AWS_SECRET_ACCESS_KEY !== undefined ? { secretAccessKey: value.AWS_SECRET_ACCESS_KEY } : {}),
    ...(value.AWS_SESSION_TOKEN !== undefined ? { sessionToken: value.AWS_SESSION_TOKEN } : {}),
  };
}

/** The host's metadata services (Azure's managed identities, Google's), which no egress proxy can reach for it. */
const METADATA_SERVICE_HOSTS = '169.254.169.254,metadata.google.internal';

function upstreamProxyOf(value: z.infer<typeof environmentSchema>): UpstreamProxy | undefined {
  const httpProxy = value.http_proxy ?? value.HTTP_PROXY ?? '';
  const httpsProxy = value.https_proxy ?? value.HTTPS_PROXY ?? '';
  if (httpProxy === '' && httpsProxy === '') return undefined;
  const configured = value.no_proxy ?? value.NO_PROXY ?? '';
  return { httpProxy, httpsProxy, noProxy: configured.trim() === '' ? METADATA_SERVICE_HOSTS : `${configured},${METADATA_SERVICE_HOSTS}` };
}

/** Decodes a 32-byte key written as hex or base64; undefined when it is neither. */
export function decodeEncryptionKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

/** The live process environment, for resolving `env.NAME` references in keys when they are used. */
export const processEnvironmentReader: EnvironmentReader = (name) => process.env[name];

/** The process environment as loadConfig takes it. */
export function processEnvironment(): Record<string, string | undefined> {
  return process.env;
}
