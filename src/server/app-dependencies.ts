/**
 * What `createApp` is built from and what it returns: the seam tests and the entry point meet the app at.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ApiKeyService } from '../core/api-keys/api-key-service.js';
import type { LedgerWriter } from '../core/api-keys/ledger-writer.js';
import type { Authenticator } from '../core/auth/authenticator.js';
import type { UsageMeter } from '../core/inference/metering.js';
import type { KeyService } from '../core/management/key-service.js';
import type { PricingStructureService } from '../core/management/pricing-structure-service.js';
import type { ProviderService } from '../core/management/provider-service.js';
import type { UsageReportService } from '../core/management/usage-report-service.js';
import type { GatewayMetrics } from '../core/observability/metrics.js';
import type { RandomSource, Router } from '../core/routing/router.js';
import type { LimitCounters } from '../counters/limit-counters.js';
import type { AdapterRegistry } from '../providers/index.js';
import type { Clock } from '../spec/clock.js';
import type { EnvironmentReader } from '../spec/environment-reader.js';
import type { AdapterOptions } from '../spec/provider.js';
import type { UpstreamProxy } from '../spec/upstream-proxy.js';
import type { Catalog } from '../store/catalog.js';
import type { Database } from '../store/database.js';
import type { SecretBox } from '../store/secret-box.js';
import type { BusyPoll } from './busy-poll.js';

/** Everything the app is built from; tests build it in-process with their own store, clock and environment. */
export interface AppDependencies {
  database: Database;
  secretBox: SecretBox;
  /** SHA-256 of the admin key. */
  adminKeyHash: Buffer;
  clock?: Clock;
  readEnvironment?: EnvironmentReader;
  logger?: Logger;
  /** How often to look for changes made by other processes (ms); 0 disables. */
  refreshIntervalMs?: number;
  adapterOptions?: AdapterOptions;
  /** Replaces the adapter registry (tests of the core with fake adapters). */
  adapters?: AdapterRegistry;
  /** Random source for weighted key choice and backoff jitter. */
  random?: RandomSource;
  /** Limits and ledger; the default only observes. */
  meter?: UsageMeter;
  /** Collect Node's process metrics too (off in tests, which build many apps). */
  processMetrics?: boolean;
  /** Limit counters; default: Redis when `redisUrl` is given, else in memory (rebuilt from the ledger). */
  counters?: LimitCounters;
  redisUrl?: string;
  /** Key prefix of the Redis counters (tests give each run its own). */
  redisKeyPrefix?: string;
  /** How long a Redis command may take before it fails (REDIS_COMMAND_TIMEOUT_MS; the counters' default if absent). */
  redisCommandTimeoutMs?: number | undefined;
  /** Whether Redis counters lease budget slices per process (REDIS_COUNTER_LEASES; default true). */
  redisCounterLeases?: boolean | undefined;
  /** USD per diem and per VCU (TOLLGATE_DIEM_USD, TOLLGATE_VCU_USD). */
  rates?: { diemUsd: number; vcuUsd: number };
  /** How often buffered ledger rows and last-used times are written (ms). */
  ledgerFlushMs?: number;
  /** Keeps the event loop polling after traffic (TOLLGATE_BUSY_POLL_MICROSECONDS); absent: the loop sleeps when idle. */
  busyPoll?: BusyPoll;
  /** The most bytes held of one upstream reply read whole, or of a stream between two events (default 256 MiB). */
  maxUpstreamReplyBytes?: number;
  /** The egress proxy upstream requests go through (HTTP_PROXY, HTTPS_PROXY, NO_PROXY); absent: direct. */
  upstreamProxy?: UpstreamProxy;
  /** A worker of TOLLGATE_WORKERS: `GET /metrics` answers for every worker, summed by the primary. */
  clusterWorker?: boolean;
}

/** The built app and the services behind it. */
export interface Gateway {
  app: FastifyInstance;
  services: {
    providers: ProviderService;
    keys: KeyService;
    catalog: Catalog;
    authenticator: Authenticator;
    router: Router;
    metrics: GatewayMetrics;
    adapters: AdapterRegistry;
    apiKeys: ApiKeyService;
    counters: LimitCounters;
    ledger: LedgerWriter;
    pricingStructures: PricingStructureService;
    usageReports: UsageReportService;
  };
  /** Reloads providers and keys from the database. */
  reload(): Promise<void>;
  /** What the refresh timer runs: reloads the configuration if another process (or this one) changed it since. */
  refresh(): Promise<void>;
  /**
   * Waits for every settlement issued so far to land in the counters, then writes the buffered ledger rows: after
   * it, the ledger holds every request answered before the call, except a stream whose answer ended before the
   * provider's follow-up read of its usage (Replicate, client without `include_usage`), settled once that read returns.
   */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}
