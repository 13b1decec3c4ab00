/**
 * Tollgate as the benchmark runs it: the built `dist/index.js` in a child process with its own temporary data
 * directory (or a fresh PostgreSQL database plus Redis), configured only through its management API, and driven
 * with an API key that has limits, so that authentication, routing, metering, the limit counters and the usage
 * ledger are all on the measured path.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { freePort, spawnPinned, waitForPort, type SpawnedProcess } from './processes.js';

export interface TollgateOptions {
  /** Label in the results (e.g. "tollgate", "tollgate-pg"). */
  name: string;
  repositoryRoot: string;
  upstreamUrl: string;
  cores?: string;
  /** API keys to create (the bench drives one of them); 1 by default. */
  apiKeys?: number;
  /** Provider keys on the openai provider (all pointing at the mock); 1 by default. */
  providerKeys?: number;
  /** PostgreSQL URL of an existing database to use instead of the embedded SQLite store. */
  databaseUrl?: string;
  redisUrl?: string;
  logLevel?: string;
  /** Extra arguments for node before the script (e.g. --cpu-prof). */
  nodeArguments?: string[];
  /** Environment variables of Tollgate's own on top of the bench's (e.g. TOLLGATE_BUSY_POLL_MICROSECONDS). */
  environment?: Record<string, string>;
  /** Start with `npm start`'s node flags and environment (default true; bench/node-flags.ts compares flag sets without them). */
  useStartFlags?: boolean;
  /** `npm start`'s node flags to leave out (bench/loop-stalls.ts measures what one of them does). */
  withoutFlags?: string[];
}

export interface RunningTollgate {
  name: string;
  url: string;
  process: SpawnedProcess;
  /** The API key's secret, sent as `Authorization: Bearer`. */
  apiKey: string;
  apiKeyId: string;
  /** The model as clients address it through Tollgate. */
  model: string;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The limits of the benchmark's API keys: every kind of counter on, none reachable during a run. */
export const benchKeyLimits = {
  consumptionLimit: { usd: 1_000_000, tokens: 1_000_000_000_000, requests: 1_000_000_000 },
  limitPeriod: 'MONTH',
  rateLimits: { rpm: 100_000_000, tpm: 1_000_000_000_000, maxConcurrent: 100_000 },
} as const;

async function call(url: string, adminKey: string, method: 'GET' | 'POST' | 'PUT', pathname: string, body?: unknown): Promise<unknown> {
  const response = await request(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${pathname} answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Runs `count` calls with at most `parallel` in flight. */
async function inBatches(count: number, parallel: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}

/**
 * The node flags `npm start` runs Tollgate with (package.json's start script, between `node` and
 * `dist/index.js`), so that the bench measures the process as it is started in production.
 */
/** How `npm start` starts node: the environment variables set on its command line and node's flags. */
export interface StartCommand {
  environment: Record<string, string>;
  flags: string[];
}

/** Reads `npm start`'s command from package.json, so that the bench starts Tollgate as production does. */
export function startCommand(repositoryRoot: string): StartCommand {
  const manifest = JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const command = /(?:^|&&\s*)((?:[A-Z_]+=\S+\s+)*)node\s+(.*?)\s*dist\/index\.js/.exec(manifest.scripts?.start ?? '');
  if (!command) return { environment: {}, flags: [] };
  const environment = Object.fromEntries(
    (command[1] ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((assignment) => [assignment.slice(0, assignment.indexOf('=')), assignment.slice(assignment.indexOf('=') + 1)]),
  );
  return { environment, flags: (command[2] ?? '').split(/\s+/).filter((part) => part.startsWith('--')) };
}

/** Starts and configures a Tollgate process. */
export async function startTollgate(options: TollgateOptions): Promise<RunningTollgate> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `tollgate-bench-${options.name}-`));
  const logFile = path.join(dataDir, 'tollgate.log');
  const port = await freePort();
  const adminKey = `tg-bench-admin-${randomBytes(16).toString('hex')}`;
  const start = startCommand(options.repositoryRoot);
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_ADMIN_KEY: adminKey,
    LOG_LEVEL: options.logLevel ?? 'info',
    ...(options.useStartFlags === false ? {} : start.environment),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl, TOLLGATE_ENCRYPTION_KEY: randomBytes(32).toString('hex') } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.environment,
  };
  const child = spawnPinned({
    name: options.name,
    command: process.execPath,
    args: [...(options.useStartFlags === false ? [] : start.flags.filter((startFlag) => !options.withoutFlags?.includes(startFlag))), ...(options.nodeArguments ?? []), path.join(options.repositoryRoot, 'dist', 'index.js')],
    env: environment,
    cwd: dataDir,
    cores: options.cores,
    logFile,
  });
  try {
    await waitForPort(port, 30_000, child);
    const url = `http://127.0.0.1:${port}`;
    await call(url, adminKey, 'PUT', '/api/providers/openai', {
      network_config: { base_url: options.upstreamUrl, max_retries: 0 },
    });
    const providerKeys = options.providerKeys ?? 1;
    await inBatches(providerKeys, 8, async (index) => {
      await call(url, adminKey, 'POST', '/api/providers/openai/keys', {
        name: `bench-${index}`,
        value: `sk-bench-${index}-${randomBytes(12).toString('hex')}`,
        weight: 1,
      });
    });
    const apiKeys = options.apiKeys ?? 1;
    const created: Array<{ id: string; apiKey: string }> = [];
    await inBatches(apiKeys, 16, async (index) => {
      const answer = (await call(url, adminKey, 'POST', '/api/v1/api_keys', {
        apiKeyType: 'INFERENCE',
        description: `bench ${index}`,
        ...benchKeyLimits,
      })) as { data: { id: string; apiKey: string } };
      created.push({ id: answer.data.id, apiKey: answer.data.apiKey });
    });
    // Drive a key from the middle of the set, so that nothing favours the first or last one created.
    const driven = created[Math.floor(created.length / 2)]!;
    return {
      name: options.name,
      url,
      process: child,
      apiKey: driven.apiKey,
      apiKeyId: driven.id,
      model: 'openai/gpt-4o-mini',
      dataDir,
      logFile,
      async stop() {
        await child.stop('SIGTERM', 20_000);
      },
    };
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}

/** Removes a stopped Tollgate's data directory. */
export function removeTollgateData(tollgate: RunningTollgate): void {
  rmSync(tollgate.dataDir, { recursive: true, force: true });
}
