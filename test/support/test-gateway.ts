import { Writable } from 'node:stream';
import { hashCredential } from '../../src/core/auth/authenticator.js';
import { createApp, type Gateway, type AppDependencies } from '../../src/server/create-app.js';
import { createLogger } from '../../src/server/logger.js';
import type { Database } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secret-box.js';
import type { TestStore } from './stores.js';

export const testAdminKey = 'tg-admin-test-0123456789abcdef';
export const testEncryptionKey = Buffer.alloc(32, 42);

export interface TestGateway {
  gateway: Gateway;
  database: Database;
  /** Every log line the gateway wrote, for checks that no secret was logged. */
  logs: string[];
  environment: Record<string, string | undefined>;
  clock: { now: number };
  request(options: { method: string; url: string; body?: unknown; headers?: Record<string, string | undefined>; admin?: boolean }): Promise<{
    status: number;
    body: any;
    headers: Record<string, unknown>;
    text: string;
  }>;
  close(): Promise<void>;
}

/** Builds the app in-process over a test store, with a captured log, a controllable clock and environment. */
export async function startTestGateway(
  store: TestStore,
  overrides: Partial<AppDependencies> & { environment?: Record<string, string | undefined> } = {},
): Promise<TestGateway> {
  const database = await store.open();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const environment = overrides.environment ?? {};
  const clock = { now: Date.parse('2026-11-23T12:00:00.000Z') };
  const gateway = await createApp({
    database,
    secretBox: new SecretBox(testEncryptionKey),
    adminKeyHash: hashCredential(testAdminKey),
    clock: () => clock.now,
    readEnvironment: (name) => environment[name],
    logger: createLogger({ level: 'debug', destination: sink }),
    ...overrides,
  });
  return {
    gateway,
    database,
    logs,
    environment,
    clock,
    async request({ method, url, body, headers: sentHeaders = {}, admin = true }) {
      const headers = Object.fromEntries(Object.entries(sentHeaders).filter((entry): entry is [string, string] => entry[1] !== undefined));
      const response = await gateway.app.inject({
        method: method as 'GET',
        url,
        headers: { ...(admin ? { authorization: `Bearer ${testAdminKey}` } : {}), ...headers },
        ...(body === undefined ? {} : typeof body === 'string' ? { payload: body, headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${testAdminKey}` } : {}), ...headers } } : { payload: body as object }),
      });
      let parsed: unknown;
      try {
        parsed = response.json();
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, body: parsed, headers: response.headers, text: response.body };
    },
    async close() {
      await gateway.close();
      await database.close();
    },
  };
}
