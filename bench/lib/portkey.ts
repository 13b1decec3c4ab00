/**
 * Portkey's open-source gateway (the `@portkey-ai/gateway` devDependency) as the benchmark's comparison point,
 * started headless from its published build and pointed at the mock through its request headers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnPinned, waitForPort, type SpawnedProcess } from './processes.js';

export interface RunningPortkey {
  name: string;
  url: string;
  process: SpawnedProcess;
  /** Headers that route a request to the mock as an OpenAI provider. */
  headers: Record<string, string>;
  model: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The published entry point of Portkey's gateway, or undefined when the package is not installed. */
export function portkeyEntry(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('@portkey-ai/gateway/package.json');
    return path.join(path.dirname(manifest), 'build', 'start-server.js');
  } catch {
    return undefined;
  }
}

export async function startPortkey(options: { upstreamUrl: string; cores?: string }): Promise<RunningPortkey> {
  const entry = portkeyEntry();
  if (!entry) throw new Error('@portkey-ai/gateway is not installed (npm ci installs the devDependencies)');
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-portkey-'));
  const logFile = path.join(directory, 'portkey.log');
  const port = await freePort();
  const shim = fileURLToPath(new URL('./portkey-stream-shim.mjs', import.meta.url));
  const child = spawnPinned({
    name: 'portkey',
    command: process.execPath,
    args: ['--import', shim, entry, `--port=${port}`, '--headless'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
    cwd: directory,
    cores: options.cores,
    logFile,
  });
  try {
    await waitForPort(port, 30_000, child);
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return {
    name: 'portkey',
    url: `http://127.0.0.1:${port}`,
    process: child,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${options.upstreamUrl}/v1`,
      authorization: 'Bearer sk-bench-portkey-0000000000000000',
    },
    model: 'gpt-4o-mini',
    logFile,
    async stop() {
      await child.stop('SIGTERM', 10_000);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
