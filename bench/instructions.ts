/**
 * Instructions per request, counted by valgrind: `node --import tsx bench/instructions.ts [--requests=N]
 * [--warmup=N] [--concurrency=N] [--root=DIR] [--compare=DIR] [--stream] [--keep]` (after `npm run build`; needs
 * valgrind). `--root` measures the build of another checkout (its dist/ and package.json) instead of this one;
 * `--node-arguments="--predictable"` adds node flags (V8's --predictable makes the count repeat more closely).
 *
 * CPU time per request on a shared VM moves by ±15 % between runs, which hides a change worth 10 µs. Valgrind's
 * callgrind counts the instructions a process executes, all threads together, and the count is nearly the same
 * from run to run whatever else the machine does. This starts Tollgate (`npm start`'s flags) under callgrind,
 * configures it as the bench does (an API key with every kind of limit, metering and the ledger on), sends
 * `--warmup` requests, zeroes the counters, sends `--requests` more and reads the count: instructions per request
 * of the whole process (user space only: the kernel's share of a syscall is not counted). With `--compare=DIR` it
 * does the same for the Tollgate built in another checkout, so that two builds compare in one run. Under valgrind
 * the process runs about 50 times slower; the counts, not the times, are the result.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { requestBody } from './lib/scenarios.js';
import { startMock } from './lib/systems.js';
import { removeTollgateData, startTollgate, type RunningTollgate } from './lib/tollgate.js';
import { flag } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const requests = Number(flag('requests', '2000'));
const warmup = Number(flag('warmup', '3000'));
const concurrency = Number(flag('concurrency', '8'));
const stream = process.argv.includes('--stream');

/** Sends `count` requests, `concurrency` at a time, and checks that each came back whole. */
async function drive(tollgate: RunningTollgate, agent: Agent, count: number): Promise<void> {
  const body = requestBody(stream ? 'stream' : 'chat', tollgate.model);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const response = await request(`${tollgate.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${tollgate.apiKey}`, 'content-type': 'application/json' },
        body,
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`Tollgate answered ${response.statusCode}: ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Asks the callgrind in process `pid` to zero or dump its counters. Valgrind names its control pipes after the
 * environment's HOST, which Tollgate's environment sets to its listen address: callgrind_control must see the same.
 */
function callgrindControl(command: string, pid: number): void {
  const answer = execFileSync('callgrind_control', [command, String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, HOST: '127.0.0.1' } });
  if (!answer.includes('OK')) throw new Error(`callgrind_control ${command} ${pid}: ${answer}`);
}

/**
 * The instruction total of the newest complete dump in `directory`, waiting up to a minute for it. Valgrind acts on
 * callgrind_control's request only while the process runs code, so an idle Tollgate is sent a health check now and
 * then (a few hundred instructions next to the measured requests' millions).
 */
async function waitForDump(directory: string, url: string): Promise<number> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const newest = readdirSync(directory)
      .map((name) => path.join(directory, name))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    const totals = newest ? /^totals:\s+(\d+)/m.exec(readFileSync(newest, 'utf8')) : null;
    if (totals) return Number(totals[1]);
    if (attempt % 10 === 0) await request(`${url}/health`).then((response) => response.body.dump());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`callgrind wrote no complete dump to ${directory}`);
}

async function measure(label: string, root: string, mockUrl: string): Promise<number> {
  const outputDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-callgrind-'));
  const tollgate = await startTollgate({
    name: `callgrind-${label}`,
    repositoryRoot: root,
    upstreamUrl: mockUrl,
    commandPrefix: [
      'valgrind',
      '--tool=callgrind',
      // V8 writes and rewrites its machine code in memory: valgrind must notice, or it runs stale code.
      '--smc-check=all-non-file',
      '--dump-instr=no',
      '--compress-strings=no',
      `--callgrind-out-file=${path.join(outputDir, 'callgrind.out.%p')}`,
    ],
    startTimeoutMs: 600_000,
    nodeArguments: flag('node-arguments', '').split(' ').filter((argument) => argument !== ''),
  });
  const agent = new Agent({ connections: concurrency, headersTimeout: 600_000, bodyTimeout: 600_000 });
  try {
    process.stdout.write(`${label}: warming up with ${warmup} requests under valgrind…\n`);
    await drive(tollgate, agent, warmup);
    callgrindControl('--zero', tollgate.process.pid);
    await drive(tollgate, agent, requests);
    callgrindControl('--dump=measured', tollgate.process.pid);
    // The process is still running, so the newest dump is the one just asked for; valgrind may still be writing it.
    const measured = await waitForDump(outputDir, tollgate.url);
    return measured / requests;
  } finally {
    await agent.close();
    await tollgate.stop();
    removeTollgateData(tollgate);
    if (!process.argv.includes('--keep')) rmSync(outputDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('valgrind is not installed (apt-get install -y valgrind)');
  }
  const mock = await startMock({ cores: undefined, delayMs: 0, chunkDelayMs: 0 });
  const compareRoot = flag('compare', '');
  const builds: Array<[string, string]> = [['tollgate', path.resolve(flag('root', repositoryRoot))], ...(compareRoot ? [['compare', path.resolve(compareRoot)] as [string, string]] : [])];
  const counts: Array<[string, number]> = [];
  try {
    for (const [label, root] of builds) counts.push([label, await measure(label, root, mock.url)]);
  } finally {
    await mock.process.stop();
  }
  for (const [label, perRequest] of counts) {
    process.stdout.write(`${label.padEnd(10)} ${Math.round(perRequest).toLocaleString('en-US').padStart(12)} instructions per ${stream ? 'stream' : 'request'}\n`);
  }
}

await main();
