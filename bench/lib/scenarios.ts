/** The benchmark's scenarios: what load, which request body, on which systems. */
import type { LoadJob, Target } from './load-jobs.js';
import type { BenchOptions, SystemName } from './options.js';
import type { SystemUnderTest } from './systems.js';

export type BodyKind = 'chat' | 'stream' | 'prompt-10k' | 'prompt-50k' | 'messages' | 'messages-stream';

/** Where a body of each kind is sent: Anthropic Messages bodies go to `/v1/messages`, the others to chat completions. */
export function pathFor(kind: BodyKind): string {
  return kind === 'messages' || kind === 'messages-stream' ? '/v1/messages' : '/v1/chat/completions';
}

export interface Scenario {
  name: string;
  description: string;
  body: BodyKind;
  systems: SystemName[];
  job(target: Target, options: BenchOptions, durationS: number): LoadJob;
}

/**
 * The fixed-rate scenario's load: an open loop of `rate` requests/s over a pool of 64 connections. The scenario,
 * its warm-up in run.ts and floor.ts --rate all send it.
 */
export function fixedRateJob(target: Target, rate: number, durationS: number): LoadJob {
  return { kind: 'latency', target, mode: 'rate', rate, connections: 64, durationS };
}

const everyone: SystemName[] = ['direct', 'tollgate', 'portkey', 'tollgate-pg', 'tollgate-keys'];
const baseline: SystemName[] = ['direct', 'tollgate', 'portkey'];

export const scenarios: Scenario[] = [
  {
    name: 'latency-1conn',
    description: 'non-streaming, one connection, back to back: latency (p50/p99)',
    body: 'chat',
    systems: [...everyone, 'node-proxy', 'tollgate-poll'],
    job: (target, _options, durationS) => ({ kind: 'latency', target, mode: 'sequential', durationS }),
  },
  {
    name: 'latency-rate',
    description: 'non-streaming, open loop at a fixed rate (--rate, default 200/s): latency (p50/p99)',
    body: 'chat',
    systems: ['direct', 'tollgate', 'portkey', 'tollgate-pg', 'node-proxy', 'tollgate-poll'],
    job: (target, options, durationS) => fixedRateJob(target, options.rate, durationS),
  },
  {
    name: 'throughput',
    description: 'non-streaming, fixed concurrency (--connections, default 32): requests/s',
    body: 'chat',
    systems: everyone,
    job: (target, options, durationS) => ({ kind: 'throughput', target, connections: options.connections, durationS, loader: 'autocannon' }),
  },
  {
    name: 'stream-throughput',
    description: 'streaming (20 chunks + usage), fixed concurrency: requests/s',
    body: 'stream',
    systems: ['direct', 'tollgate', 'portkey', 'tollgate-pg'],
    job: (target, options, durationS) => ({ kind: 'throughput', target, connections: options.connections, durationS, loader: 'autocannon' }),
  },
  {
    name: 'stream-latency',
    description: 'streaming, one connection, back to back: time to first and last byte',
    body: 'stream',
    systems: [...baseline, 'tollgate-poll'],
    job: (target, _options, durationS) => ({ kind: 'stream', target, durationS }),
  },
  {
    name: 'prompt-10k',
    description: '~10 KB request bodies, fixed concurrency: requests/s',
    body: 'prompt-10k',
    systems: baseline,
    job: (target, options, durationS) => ({ kind: 'throughput', target, connections: options.connections, durationS, loader: 'autocannon' }),
  },
  {
    name: 'prompt-50k',
    description: '~50 KB request bodies, fixed concurrency: requests/s',
    body: 'prompt-50k',
    systems: baseline,
    job: (target, options, durationS) => ({ kind: 'throughput', target, connections: options.connections, durationS, loader: 'autocannon' }),
  },
];

const words = [
  'the', 'gateway', 'forwards', 'each', 'request', 'to', 'a', 'provider', 'and', 'meters', 'tokens', 'for', 'every',
  'key', 'while', 'limits', 'keep', 'spending', 'within', 'budget', 'so', 'teams', 'can', 'share', 'one', 'endpoint',
  'summarise', 'this', 'paragraph', 'about', 'latency', 'throughput', 'memory', 'streaming', 'responses', 'quickly',
];

/** Deterministic English-like filler of about `bytes` characters. */
function filler(bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  let state = 12345;
  while (length < bytes) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const word = words[state % words.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, bytes);
}

/** The request body of a kind for a model; large prompts are padded so that the whole body has about the size. */
export function requestBody(kind: BodyKind, model: string): string {
  const base = { model, max_tokens: 64 };
  switch (kind) {
    case 'chat':
      return JSON.stringify({ ...base, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] });
    case 'stream':
      return JSON.stringify({
        ...base,
        messages: [{ role: 'user', content: 'Say hello in one short sentence.' }],
        stream: true,
        stream_options: { include_usage: true },
      });
    case 'messages':
      return JSON.stringify({ ...base, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] });
    case 'messages-stream':
      return JSON.stringify({ ...base, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], stream: true });
    case 'prompt-10k':
    case 'prompt-50k': {
      const size = kind === 'prompt-10k' ? 10_240 : 51_200;
      const shell = JSON.stringify({ ...base, messages: [{ role: 'system', content: 'You are a concise assistant.' }, { role: 'user', content: '' }] });
      return JSON.stringify({
        ...base,
        messages: [
          { role: 'system', content: 'You are a concise assistant.' },
          { role: 'user', content: filler(size - shell.length) },
        ],
      });
    }
  }
}

export function targetFor(system: SystemUnderTest, kind: BodyKind): Target {
  return { url: system.url, headers: system.headers, body: requestBody(kind, system.model) };
}

/** The scenarios a run includes (all, or those named by --scenarios). */
export function selectedScenarios(options: BenchOptions): Scenario[] {
  if (!options.scenarios) return scenarios;
  const unknown = options.scenarios.filter((name) => !scenarios.some((scenario) => scenario.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((scenario) => scenario.name).join(', ')}`);
  return scenarios.filter((scenario) => options.scenarios!.includes(scenario.name));
}
