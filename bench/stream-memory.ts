/**
 * What an open stream keeps in the gateway's memory: `node --import tsx bench/stream-memory.ts [--streams=300]
 * [--prompt-kb=0,50] [--route=chat|messages] [--compare=DIR[,DIR…]]` (after `npm run build`).
 *
 * For each Tollgate (this checkout's, and one per `--compare` directory) and each prompt size: a fresh gateway serves a
 * warm-up of 50 streams, then `--streams` streams are opened through it and held open (the mock writes a chunk every
 * 1.5 s, so a stream lasts ~30 s), and a heap snapshot is written (`--heapsnapshot-signal`) before they open and
 * once every stream has its first chunk. The difference between the two, divided by the streams, is what one open
 * stream keeps: in all, by kind of object (the snapshot's node types and constructor names), and outside the
 * JavaScript heap in ArrayBuffers (such as the request bodies undici keeps). The prompt is a system and a user message
 * of about `--prompt-kb` kilobytes together (0: one short sentence). Writes bench/results/<time>-stream-memory.md.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { writeResultFile } from './lib/result-file.js';
import { startMock } from './lib/systems.js';
import { startTollgate, type RunningTollgate } from './lib/tollgate.js';
import { flag, setUpTool } from './lib/tool-setup.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

/** The node types and names a snapshot's nodes have, summed by `type:name` (strings and code by type alone). */
type Census = Map<string, { count: number; bytes: number }>;

interface HeapCensus {
  census: Census;
  totalBytes: number;
  /** Bytes of ArrayBuffer backing stores (outside the JavaScript heap). */
  arrayBufferBytes: number;
}

/** Reads a heap snapshot file into a census of its nodes. */
function readCensus(file: string): HeapCensus {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const census: Census = new Map();
  let totalBytes = 0;
  let arrayBufferBytes = 0;
  for (let index = 0; index < snapshot.nodes.length; index += width) {
    const type = types[snapshot.nodes[index + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[index + nameAt]!]!;
    const bytes = snapshot.nodes[index + sizeAt]!;
    const key = type.includes('string') || type === 'code' ? type : `${type}:${name.slice(0, 60)}`;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += bytes;
    census.set(key, entry);
    totalBytes += bytes;
    if (key === 'native:system / JSArrayBufferData') arrayBufferBytes += bytes;
  }
  return { census, totalBytes, arrayBufferBytes };
}

/** Asks the gateway for a heap snapshot and waits until its file is complete. */
async function heapSnapshot(gateway: RunningTollgate, directory: string): Promise<string> {
  const before = new Set(readdirSync(directory));
  process.kill(gateway.process.pid, 'SIGUSR2');
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const file = readdirSync(directory).find((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    if (file === undefined) continue;
    // Written in one go by the gateway's main thread; complete once it parses.
    try {
      JSON.parse(readFileSync(path.join(directory, file), 'utf8'));
      return path.join(directory, file);
    } catch {
      // still being written
    }
  }
}

function requestBodyOf(model: string, promptKb: number, route: string): string {
  const system = 'You are terse. '.repeat(Math.ceil((promptKb * 1024) / 2 / 15));
  const user = promptKb === 0 ? 'Say hello in one short sentence.' : 'Say hello in one short sentence. '.repeat(Math.ceil((promptKb * 1024) / 2 / 33));
  return route === 'messages'
    ? JSON.stringify({ model, max_tokens: 64, stream: true, ...(promptKb === 0 ? {} : { system }), messages: [{ role: 'user', content: user }] })
    : JSON.stringify({ model, stream: true, messages: [...(promptKb === 0 ? [] : [{ role: 'system', content: system }]), { role: 'user', content: user }] });
}

/** Opens a stream and resolves `first` on its first bytes and `done` at its end. */
async function openStream(gateway: RunningTollgate, agent: Agent, route: string, body: string): Promise<{ first: Promise<void>; done: Promise<void> }> {
  const response = await request(`${gateway.url}${route === 'messages' ? '/v1/messages' : '/v1/chat/completions'}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${gateway.apiKey}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body,
  });
  if (response.statusCode !== 200) throw new Error(`a stream was refused: ${response.statusCode} ${await response.body.text()}`);
  let arrived!: () => void;
  const first = new Promise<void>((resolve) => (arrived = resolve));
  const done = (async () => {
    for await (const _bytes of response.body) arrived();
  })();
  return { first, done };
}

interface Measurement {
  label: string;
  promptKb: number;
  requestBytes: number;
  perStream: number;
  arrayBuffersPerStream: number;
  top: Array<{ key: string; bytes: number; count: number }>;
}

async function measure(label: string, root: string, promptKb: number, streams: number, route: string, cores: ReturnType<typeof setUpTool>): Promise<Measurement> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-stream-memory-'));
  const mock = await startMock({ cores: cores.loadCores, delayMs: 0, chunkDelayMs: 1500 });
  const gateway = await startTollgate({
    name: label,
    repositoryRoot: root,
    upstreamUrl: mock.url,
    cores: cores.gatewayCores,
    logLevel: 'info',
    nodeArguments: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${directory}`],
  });
  const agent = new Agent({ connections: streams + 100 });
  try {
    const body = requestBodyOf(gateway.model, promptKb, route);
    const warmUp = await Promise.all(Array.from({ length: 50 }, () => openStream(gateway, agent, route, body)));
    await Promise.all(warmUp.map((stream) => stream.done));
    const idle = readCensus(await heapSnapshot(gateway, directory));
    const open = await Promise.all(Array.from({ length: streams }, () => openStream(gateway, agent, route, body)));
    await Promise.all(open.map((stream) => stream.first));
    const held = readCensus(await heapSnapshot(gateway, directory));
    const top = [...held.census]
      .map(([key, entry]) => {
        const before = idle.census.get(key) ?? { count: 0, bytes: 0 };
        return { key, bytes: (entry.bytes - before.bytes) / streams, count: (entry.count - before.count) / streams };
      })
      .sort((left, right) => right.bytes - left.bytes)
      .slice(0, 12);
    await Promise.all(open.map((stream) => stream.done));
    return {
      label,
      promptKb,
      requestBytes: Buffer.byteLength(body),
      perStream: (held.totalBytes - idle.totalBytes) / streams,
      arrayBuffersPerStream: (held.arrayBufferBytes - idle.arrayBufferBytes) / streams,
      top,
    };
  } finally {
    await agent.close();
    await gateway.stop();
    await mock.process.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const streams = Number(flag('streams', '300'));
  const prompts = flag('prompt-kb', '0,50').split(',').map(Number);
  const route = flag('route', 'chat');
  if (route !== 'chat' && route !== 'messages') throw new Error('--route takes chat or messages');
  const cores = setUpTool();
  const builds = [
    { label: 'tollgate', root: repositoryRoot },
    ...flag('compare', '')
      .split(',')
      .filter((directory) => directory !== '')
      .map((directory) => ({ label: `tollgate@${path.basename(path.resolve(directory))}`, root: path.resolve(directory) })),
  ];
  const lines = [
    `# What an open stream keeps — ${new Date().toISOString()}`,
    '',
    `- ${streams} streams held open on \`${route === 'messages' ? '/v1/messages' : '/v1/chat/completions'}\` (OpenAI mock upstream, a chunk every 1.5 s); heap snapshots before they open and once each has its first chunk`,
    `- Node ${process.version}; ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    '',
    '| build | prompt | request body bytes | per open stream, all | of it in ArrayBuffers |',
    '|---|---:|---:|---:|---:|',
  ];
  const details: string[] = [];
  for (const promptKb of prompts) {
    for (const build of builds) {
      const result = await measure(build.label, build.root, promptKb, streams, route, cores);
      const row = `| ${result.label} | ${promptKb} KB | ${result.requestBytes} | ${(result.perStream / 1024).toFixed(1)} KB | ${(result.arrayBuffersPerStream / 1024).toFixed(1)} KB |`;
      console.log(row);
      lines.push(row);
      details.push('', `## ${result.label}, ${promptKb} KB prompt: the largest kinds, per open stream`, '', '| kind | bytes | objects |', '|---|---:|---:|');
      for (const entry of result.top) details.push(`| \`${entry.key}\` | ${entry.bytes.toFixed(0)} | ${entry.count.toFixed(2)} |`);
    }
  }
  console.log(`results: ${writeResultFile('stream-memory', `${[...lines, ...details].join('\n')}\n`)}`);
}

await main();
