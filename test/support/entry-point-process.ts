import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Tollgate started as an operator starts it (`src/index.ts`), in a process of its own. */
export interface EntryPointProcess {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  process: ChildProcess;
  /** Its standard output so far (one JSON log line a line). */
  standardOutput(): string;
  /** Its standard output and standard error so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends SIGTERM (a graceful stop) unless it has exited, and resolves with the exit code. */
  stop(): Promise<number | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `src/index.ts` with exactly `environment` (beside PATH, HOME, PORT and HOST: nothing of the test runner's
 * own environment leaks in) and resolves once `/health` answers; rejects with its output if it exits first.
 */
export async function startEntryPoint(environment: Record<string, string>): Promise<EntryPointProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let standardOutput = '';
  // Decoded by the stream, so that a character split between two reads is joined, not replaced.
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    output += text;
    standardOutput += text;
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (;;) {
    const health = await fetch(`${base}/health`).then((response) => response.status).catch(() => 0);
    if (health === 200) break;
    if (child.exitCode !== null) throw new Error(`the gateway exited while starting:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    base,
    process: child,
    standardOutput: () => standardOutput,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
