/**
 * Runs the benchmark's mock upstream as its own process:
 *   node --import tsx bench/mock-server.ts [--port=N] [--delay-ms=N] [--chunk-delay-ms=N] [--stream-chunks=N] [--stamp-chunks=1]
 * Prints one JSON line `{"port": N}` when listening; stops on SIGTERM/SIGINT.
 */
import { startMockUpstream } from './lib/mock-upstream.js';

function flag(name: string, fallback: number): number {
  const found = process.argv.find((argument) => argument.startsWith(`--${name}=`));
  if (!found) return fallback;
  const value = Number(found.slice(name.length + 3));
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
  return value;
}

const mock = await startMockUpstream(flag('port', 0), {
  delayMs: flag('delay-ms', 0),
  chunkDelayMs: flag('chunk-delay-ms', 0),
  streamChunks: flag('stream-chunks', 20),
  stampChunks: flag('stamp-chunks', 0) === 1,
});
process.stdout.write(`${JSON.stringify({ port: mock.port })}\n`);
const stop = () => {
  void mock.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
