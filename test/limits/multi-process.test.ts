/**
 * Limits hold across real operating-system processes: this test's gateway and a child gateway process
 * (test/limits/child-gateway.ts, run with node and tsx) share one store and one Redis key prefix. 100
 * concurrent requests spread over both never settle more than the limit; neither process logs the API key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whenReceived } from '../inference/inference-helpers.js';
import { redisUrl, skipWithout } from '../support/services.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { testAdminKey, testEncryptionKey } from '../support/test-gateway.js';
import type { ChildGatewayOptions, ChildMessage } from './child-gateway.js';
import {
  chatAs,
  countRedisKeys,
  createApiKey,
  deleteRedisPrefix,
  freshRedisPrefix,
  ledgerRowsOf,
  smallChat,
  startLimitsRig,
  total,
  usageOf,
  type LimitsRig,
} from './limit-helpers.js';

const childEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child-gateway.ts');

/** A child gateway process and a way to wait for its next message of a kind. */
interface Child {
  process: ChildProcess;
  url: string;
  output: string[];
  request(kind: 'reload-keys'): Promise<void>;
  /** Asks for a graceful shutdown and waits until the process has exited; returns its exit code. */
  close(): Promise<number | null>;
}

function nextMessage(child: ChildProcess, kind: ChildMessage['kind']): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.kind !== kind) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the child gateway exited (code ${code}) before sending "${kind}"`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function startChild(options: ChildGatewayOptions): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', childEntry, JSON.stringify(options)], {
    cwd: path.resolve(path.dirname(childEntry), '../..'),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  let ready: ChildMessage;
  try {
    ready = await nextMessage(child, 'ready');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${output.join('')}`);
  }
  return {
    process: child,
    url: `http://127.0.0.1:${(ready as { port: number }).port}`,
    output,
    async request(kind) {
      const answer = nextMessage(child, 'reloaded');
      child.send({ kind });
      await answer;
    },
    async close() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const closed = nextMessage(child, 'closed');
      child.send({ kind: 'close' });
      await closed;
      return exited;
    },
  };
}

const childProcessSuite = 'a limit shared with a child gateway process over Redis ($name store)';
describe.skipIf(skipWithout('Redis', childProcessSuite)).each(storeKinds)(childProcessSuite, ({ create }) => {
  const prefix = freshRedisPrefix();
  let store: TestStore;
  let rig: LimitsRig;
  let child: Child | undefined;

  const childOptions = (): ChildGatewayOptions => ({
    dataDir: store.dataDir,
    ...(store.databaseUrl ? { databaseUrl: store.databaseUrl, schema: store.schema! } : {}),
    redisUrl,
    redisKeyPrefix: prefix,
    adminKey: testAdminKey,
    encryptionKeyHex: testEncryptionKey.toString('hex'),
    now: rig.tollgate.clock.now,
  });

  beforeAll(async () => {
    store = create();
    rig = await startLimitsRig({ store, redisUrl, redisKeyPrefix: prefix });
    child = await startChild(childOptions());
  }, 60_000);
  afterAll(async () => {
    if (child?.process.connected) await child.close().catch(() => child!.process.kill());
    await rig?.dispose();
    await deleteRedisPrefix(prefix);
    expect(await countRedisKeys(prefix)).toEqual([]);
  });

  it('is another process serving the same provider from the same store', async () => {
    expect(child!.process.pid).not.toBe(process.pid);
    const models = await fetch(`${child!.url}/v1/models`, { headers: { authorization: `Bearer ${testAdminKey}` } });
    expect(models.status).toBe(200);
  });

  it('serves exactly 10 of 100 concurrent requests on a requests limit of 10, whichever process answers', async () => {
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 10, usd: 1000 }, limitPeriod: 'EPOCH' });
    await child!.request('reload-keys');
    const replies = await Promise.all(Array.from({ length: 100 }, (_, index) => chatAs(index % 2 === 0 ? rig.tollgate : child!, key.secret, smallChat())));
    // Each process got 50 requests: separate counters would have served 10 each.
    const served = replies.filter((reply) => reply.status === 200);
    expect(served).toHaveLength(10);
    for (const refusal of replies.filter((reply) => reply.status !== 200)) {
      expect(refusal.status).toBe(402);
      expect(refusal.body.error.code).toBe('API_KEY_REQUESTS_SPEND_LIMIT_EXCEEDED');
    }
    // The child's answers may leave before their settlements land in Redis; a graceful shutdown waits for them and
    // writes the child's ledger rows: then the counters and the store hold every request.
    expect(await child!.close()).toBe(0);
    const usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window.spent.requests).toBe(10);
    expect(usage.window.reserved).toEqual({ usd: 0, diem: 0, vcu: 0, tokens: 0, requests: 0 });
    const rows = await ledgerRowsOf(rig.tollgate, key.id);
    expect(rows).toHaveLength(10);
    expect(usage.window.spent.usd).toBeCloseTo(total(rows, (row) => row.cost_usd), 12);

    const childLog = child!.output.join('');
    // The scan reads real log lines (one or more per request).
    expect(childLog.split('\n').filter((line) => line.startsWith('{')).length).toBeGreaterThan(10);
    expect(childLog).not.toContain(key.secret);
    expect(childLog).not.toContain(key.secret.slice(3, 20));
    expect(rig.tollgate.logs.join('')).not.toContain(key.secret);
  });

  it('gives back what a killed process held once the reservation’s hold ends, and no sooner', { timeout: 60_000 }, async () => {
    const key = await createApiKey(rig.tollgate, { consumptionLimit: { requests: 1 }, limitPeriod: 'LIFETIME' });
    const doomed = await startChild({ ...childOptions(), now: rig.tollgate.clock.now });
    const before = rig.mock.requests.length;
    rig.mock.enqueue({ hang: true });
    const pending = chatAs(doomed, key.secret, smallChat()).catch((error: unknown) => error);
    await whenReceived(rig.mock.requests, before + 1);
    expect((await usageOf(rig.tollgate, key.id)).window.reserved.requests).toBe(1);

    const exited = new Promise((resolve) => doomed.process.once('exit', (_code, signal) => resolve(signal)));
    doomed.process.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await rig.mock.whenAborted();
    expect(await pending).toBeInstanceOf(Error);

    // Nobody settled: the hold stays for its 15 minutes, and refuses the key's one request meanwhile.
    const started = rig.tollgate.clock.now;
    rig.tollgate.clock.now = started + 15 * 60_000 - 1;
    expect((await usageOf(rig.tollgate, key.id)).window.reserved.requests).toBe(1);
    expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(402);
    rig.tollgate.clock.now = started + 15 * 60_000;
    const usage = await usageOf(rig.tollgate, key.id);
    expect(usage.window.reserved.requests).toBe(0);
    expect(usage.window.spent.requests).toBe(0);
    expect((await chatAs(rig.tollgate, key.secret, smallChat())).status).toBe(200);
  });
});
