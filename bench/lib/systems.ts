/**
 * The systems under test, each an HTTP endpoint the load generator can hit with the same kind of request:
 * the mock itself (direct), Tollgate in its configurations, Portkey's gateway, and the thinnest Node HTTP proxy
 * (the floor of what any Node gateway pays on this machine).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { request } from 'undici';
import type { SystemName } from './options.js';
import { startPortkey } from './portkey.js';
import { firstLine, freePort, spawnPinned, waitForPort, type SpawnedProcess } from './processes.js';
import { isLocal, pinLocalServices } from './service-pinning.js';
import { removeTollgateData, startTollgate, type RunningTollgate } from './tollgate.js';

export interface SystemUnderTest {
  name: SystemName | 'tollgate-soak';
  description: string;
  /** The chat completions URL. */
  url: string;
  headers: Record<string, string>;
  model: string;
  /** The gateway process whose RSS and CPU time are sampled (none for direct). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface RunningMock {
  url: string;
  process: SpawnedProcess;
  /** Chat requests the mock answered so far. */
  served(): Promise<number>;
}

export async function startMock(options: { cores: string | undefined; delayMs: number; chunkDelayMs: number; stampChunks?: boolean }): Promise<RunningMock> {
  const script = fileURLToPath(new URL('../mock-server.ts', import.meta.url));
  const mock = spawnPinned({
    name: 'mock upstream',
    command: process.execPath,
    args: [
      '--import',
      import.meta.resolve('tsx'),
      script,
      '--port=0',
      `--delay-ms=${options.delayMs}`,
      `--chunk-delay-ms=${options.chunkDelayMs}`,
      ...(options.stampChunks ? ['--stamp-chunks=1'] : []),
    ],
    cores: options.cores,
  });
  const { port } = JSON.parse(await firstLine(mock.child)) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    process: mock,
    async served() {
      const response = await request(`${url}/stats`);
      return ((await response.body.json()) as { served: number }).served;
    },
  };
}

export function directSystem(mock: RunningMock): SystemUnderTest {
  return {
    name: 'direct',
    description: 'client → mock',
    url: `${mock.url}/v1/chat/completions`,
    headers: { authorization: 'Bearer sk-bench-direct' },
    model: 'gpt-4o-mini',
    pid: undefined,
    stop: async () => undefined,
  };
}

function fromTollgate(name: SystemUnderTest['name'], description: string, tollgate: RunningTollgate, cleanup: () => Promise<void> = async () => undefined): SystemUnderTest {
  return {
    name,
    description,
    url: `${tollgate.url}/v1/chat/completions`,
    headers: { authorization: `Bearer ${tollgate.apiKey}` },
    model: tollgate.model,
    pid: tollgate.process.pid,
    async stop() {
      await tollgate.stop();
      removeTollgateData(tollgate);
      await cleanup();
    },
  };
}

export interface StartOptions {
  repositoryRoot: string;
  mock: RunningMock;
  gatewayCores: string | undefined;
  /** The mock's and load generator's cores; the local PostgreSQL and Redis are moved there while measured. */
  loadCores: string | undefined;
  logLevel: string;
  busyPollMicroseconds: number;
  postgresUrl: string;
  redisUrl: string;
  /** Extra node arguments for Tollgate's process (bench/profile.ts passes --cpu-prof). */
  nodeArguments?: string[];
  /** The node:http proxy writes an event stream's chunks as they arrive instead of relaying the reply whole. */
  relayChunks?: boolean;
}

export async function startTollgateSystem(name: 'tollgate' | 'tollgate-keys' | 'tollgate-poll' | 'tollgate-soak', options: StartOptions): Promise<SystemUnderTest> {
  const many = name === 'tollgate-keys';
  const polling = name === 'tollgate-poll';
  const tollgate = await startTollgate({
    name,
    repositoryRoot: options.repositoryRoot,
    upstreamUrl: options.mock.url,
    cores: options.gatewayCores,
    logLevel: options.logLevel,
    apiKeys: many ? 1_000 : 1,
    providerKeys: many ? 100 : 1,
    ...(options.nodeArguments ? { nodeArguments: options.nodeArguments } : {}),
    ...(polling ? { environment: { TOLLGATE_BUSY_POLL_MICROSECONDS: String(options.busyPollMicroseconds) } } : {}),
  });
  const description = many
    ? 'client → Tollgate (SQLite, 1,000 API keys, 100 provider keys) → mock'
    : polling
      ? `client → Tollgate (embedded SQLite, TOLLGATE_BUSY_POLL_MICROSECONDS=${options.busyPollMicroseconds}) → mock`
      : 'client → Tollgate (embedded SQLite, in-memory counters) → mock';
  return fromTollgate(name, description, tollgate);
}

/** Tollgate on a fresh PostgreSQL database (created here, dropped at stop) with Redis counters. */
export async function startTollgatePostgres(options: StartOptions): Promise<SystemUnderTest> {
  const admin = new pg.Client({ connectionString: options.postgresUrl, connectionTimeoutMillis: 3_000 });
  await admin.connect();
  const database = `tollgate_bench_${randomBytes(6).toString('hex')}`;
  await admin.query(`create database ${database}`);
  await admin.end();
  const databaseUrl = new URL(options.postgresUrl);
  databaseUrl.pathname = `/${database}`;
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  await redis.connect();
  const dropDatabase = async () => {
    const client = new pg.Client({ connectionString: options.postgresUrl });
    await client.connect();
    await client.query(`drop database if exists ${database} with (force)`);
    await client.end();
  };
  const services = isLocal(options.postgresUrl) && isLocal(options.redisUrl) ? pinLocalServices(options.loadCores) : { pinned: [], restore: () => undefined };
  let tollgate: RunningTollgate;
  try {
    tollgate = await startTollgate({
      name: 'tollgate-pg',
      repositoryRoot: options.repositoryRoot,
      upstreamUrl: options.mock.url,
      cores: options.gatewayCores,
      logLevel: options.logLevel,
      databaseUrl: databaseUrl.toString(),
      redisUrl: options.redisUrl,
      ...(options.nodeArguments ? { nodeArguments: options.nodeArguments } : {}),
    });
  } catch (error) {
    services.restore();
    redis.disconnect();
    await dropDatabase();
    throw error;
  }
  const pinnedNote = services.pinned.length > 0 ? `; ${services.pinned.join(' and ')} pinned to the load core(s) meanwhile` : '';
  return fromTollgate('tollgate-pg', `client → Tollgate (PostgreSQL store, Redis counters) → mock${pinnedNote}`, tollgate, async () => {
    services.restore();
    // Only the counters of this run's API key (its id is in every bucket name) and the reservations they held.
    const stale: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `tollgate:counters:*${tollgate.apiKeyId}*`, 'COUNT', 1000);
      cursor = next;
      stale.push(...keys);
    } while (cursor !== '0');
    if (stale.length > 0) await redis.del(...stale);
    redis.disconnect();
    await dropDatabase();
  });
}

export async function startPortkeySystem(options: StartOptions): Promise<SystemUnderTest> {
  const portkey = await startPortkey({ upstreamUrl: options.mock.url, cores: options.gatewayCores });
  return {
    name: 'portkey',
    description: "client → Portkey's gateway (@portkey-ai/gateway) → mock",
    url: `${portkey.url}/v1/chat/completions`,
    headers: portkey.headers,
    model: portkey.model,
    pid: portkey.process.pid,
    stop: () => portkey.stop(),
  };
}

/**
 * bench/floor/node-http-proxy.mjs pinned like the gateways: node:http on both sides, bytes relayed, nothing else. Its
 * added latency, in the same run, is what this machine charges any Node proxy for the hops (wake-ups across cores
 * included); Tollgate's own share is what it adds over this.
 */
export async function startNodeProxySystem(options: StartOptions): Promise<SystemUnderTest> {
  const port = await freePort();
  const proxy = spawnPinned({
    name: 'node-proxy',
    command: process.execPath,
    args: [
      fileURLToPath(new URL('../floor/node-http-proxy.mjs', import.meta.url)),
      `--port=${port}`,
      `--upstream=${options.mock.url}`,
      ...(options.relayChunks ? ['--relay=chunks'] : []),
    ],
    cores: options.gatewayCores,
  });
  await waitForPort(port, 15_000, proxy);
  return {
    name: 'node-proxy',
    description: `client → the thinnest Node HTTP proxy (node:http both ways, bytes relayed${options.relayChunks ? ' chunk by chunk' : ''}; bench/floor/node-http-proxy.mjs) → mock`,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: {},
    model: 'gpt-4o-mini',
    pid: proxy.pid,
    stop: () => proxy.stop(),
  };
}

/** Starts one system by name. */
export function startSystem(name: SystemName, options: StartOptions): Promise<SystemUnderTest> {
  switch (name) {
    case 'direct':
      return Promise.resolve(directSystem(options.mock));
    case 'tollgate':
    case 'tollgate-keys':
    case 'tollgate-poll':
      return startTollgateSystem(name, options);
    case 'tollgate-pg':
      return startTollgatePostgres(options);
    case 'portkey':
      return startPortkeySystem(options);
    case 'node-proxy':
      return startNodeProxySystem(options);
  }
}
