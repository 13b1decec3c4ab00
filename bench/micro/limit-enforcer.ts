/**
 * Micro-benchmark of API-key limit enforcement on the request path (issue 6): LimitEnforcer begin + settle against
 * MemoryCounters for a key with every kind of limit, as the load benchmark's keys have; the counters' reserve and
 * settle alone; authentication of the key's credential; the nano-unit conversion alone. It runs in seconds. The
 * numbers move with the machine's load: compare two versions only within one sitting, alternating them.
 *
 *   node --import tsx bench/micro/limit-enforcer.ts [--iterations=20000] [--rounds=5]
 */
import { createHash, randomBytes } from 'node:crypto';
import { apiKeyPrefix } from '../../src/core/api-keys/api-key-service.js';
import type { LedgerWriter } from '../../src/core/api-keys/ledger-writer.js';
import { Authenticator, hashCredential } from '../../src/core/auth/authenticator.js';
import type { MeteringStart } from '../../src/core/inference/metering.js';
import { MemoryCounters } from '../../src/counters/memory-counters.js';
import { toNanoUnits } from '../../src/counters/nano-units.js';
import type { ApiKeyRecord } from '../../src/store/api-key-record.js';
import { startEnforcerRig } from '../../test/support/limit-enforcer-rig.js';

const argument = (name: string, fallback: number) => {
  const found = process.argv.find((value) => value.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const iterations = argument('iterations', 20_000);
const rounds = argument('rounds', 5);

const clock = () => Date.now();
const secret = `${apiKeyPrefix}${randomBytes(32).toString('base64url')}`;
const record: ApiKeyRecord = {
  id: 'bench-key',
  secretHash: createHash('sha256').update(secret, 'utf8').digest('hex'),
  last6: secret.slice(-6),
  type: 'INFERENCE',
  description: 'bench',
  // The load benchmark's limits: every counter on, none reachable.
  limits: { usd: 1_000_000, tokens: 1_000_000_000_000, requests: 1_000_000_000 },
  period: 'MONTH',
  periodSince: Date.now() - 86_400_000,
  expiresAt: null,
  models: [],
  rateLimits: { rpm: 100_000_000, tpm: 1_000_000_000_000, maxConcurrent: 100_000 },
  createdAt: 0,
  updatedAt: 0,
  lastUsedAt: null,
};

const counters = new MemoryCounters();
let rows = 0;
const ledger = { append: () => void (rows += 1) } as unknown as LedgerWriter;
const { enforcer, apiKeys, target } = await startEnforcerRig({ record, counters, clock, ledger });
const authenticator = new Authenticator(hashCredential(`admin-${randomBytes(16).toString('hex')}`));
authenticator.addVerifier(apiKeys);
const body = { model: 'openai/gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] };
const usage = { inputTokens: 14, outputTokens: 9, cachedInputTokens: 0 };

async function enforce(count: number): Promise<void> {
  const principal = authenticator.authenticate(secret);
  for (let index = 0; index < count; index += 1) {
    const start: MeteringStart = { principal, requestId: `request-${index}`, requestType: 'chat', targets: [target], body };
    const ticket = await enforcer.begin(start);
    await ticket.settle({ status: 200, served: { target, keyId: 'pk', pricingStructureId: null }, usage, latencyMs: 5, stream: false });
  }
}

/** The counters alone, with the six checks the enforcer makes for such a key. */
async function reserveAndSettle(count: number): Promise<void> {
  const checks = [
    { bucket: 'usage:k:w:usd', limit: 1_000_000, amount: 0.0000426, expiresAt: Date.now() + 86_400_000 },
    { bucket: 'usage:k:w:tokens', limit: 1e12, amount: 78, expiresAt: Date.now() + 86_400_000 },
    { bucket: 'usage:k:w:requests', limit: 1e9, amount: 1, expiresAt: Date.now() + 86_400_000 },
    { bucket: 'rate:k:rpm:0', limit: 1e8, amount: 1, expiresAt: Date.now() + 86_400_000 },
    { bucket: 'rate:k:tpm:0', limit: 1e12, amount: 78, expiresAt: Date.now() + 86_400_000 },
    { bucket: 'rate:k:concurrent', limit: 100_000, amount: 1 },
  ];
  const actual = { 'usage:k:w:usd': 0.0000117, 'usage:k:w:tokens': 23, 'usage:k:w:requests': 1, 'rate:k:rpm:0': 1, 'rate:k:tpm:0': 23, 'rate:k:concurrent': 0 };
  for (let index = 0; index < count; index += 1) {
    const reservationId = `reservation-${index}`;
    await counters.reserve({ reservationId, checks, ttlMs: 60_000 });
    await counters.settle(reservationId, actual);
  }
}

function authenticate(count: number): void {
  for (let index = 0; index < count; index += 1) authenticator.authenticate(secret);
}

const amounts = [0, 1, 64, 0.000123456, 1_000_000, 2e-8, 0.1, 1e12, 1e15, 123.456789012];
function convert(count: number): bigint {
  let sum = 0n;
  for (let index = 0; index < count; index += 1) sum += toNanoUnits(amounts[index % amounts.length]!, 'amount');
  return sum;
}

async function measure(name: string, count: number, run: (count: number) => unknown): Promise<void> {
  await run(Math.min(count, 10_000));
  const results: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const began = process.hrtime.bigint();
    await run(count);
    results.push(Number(process.hrtime.bigint() - began) / count / 1000);
  }
  results.sort((a, b) => a - b);
  console.log(`${name.padEnd(34)} median ${results[Math.floor(results.length / 2)]!.toFixed(3)} µs, best ${results[0]!.toFixed(3)} µs per call`);
}

await measure('begin + settle (enforcer)', iterations, enforce);
await measure('reserve + settle (counters)', iterations, reserveAndSettle);
await measure('authenticate', iterations, authenticate);
await measure('toNanoUnits', iterations * 10, convert);
if (rows === 0) throw new Error('the enforcer wrote no ledger rows');
await counters.close();
await apiKeys.close();
