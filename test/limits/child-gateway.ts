/**
 * A Tollgate gateway in an operating-system process of its own, for the multi-process limit test. Started as
 * `node --import tsx test/limits/child-gateway.ts '<options as JSON>'` with an IPC channel; it builds the app
 * with createApp over the given store and Redis prefix, listens on a free loopback port, logs to stdout, and
 * answers messages: `{kind:'reload-keys'}` (learn API keys created by another process) and `{kind:'close'}`
 * (graceful shutdown: the ledger is written out). It reports `ready` (with its port), `reloaded` and `closed`.
 */
import type { AddressInfo } from 'node:net';
import { hashCredential } from '../../src/core/auth/authenticator.js';
import { createApp } from '../../src/server/create-app.js';
import { createLogger } from '../../src/server/logger.js';
import { openDatabase } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secret-box.js';

/** What the parent test passes on the command line. */
export interface ChildGatewayOptions {
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
  redisUrl: string;
  redisKeyPrefix: string;
  adminKey: string;
  encryptionKeyHex: string;
  /** The fixed time of the child's clock (the parent's test clock), so both compute the same windows. */
  now: number;
}

export type ChildMessage = { kind: 'ready'; port: number } | { kind: 'reloaded' } | { kind: 'closed' };

const options = JSON.parse(process.argv[2] ?? '{}') as ChildGatewayOptions;
const send = (message: ChildMessage) => process.send?.(message);

const database = await openDatabase({
  dataDir: options.dataDir,
  ...(options.databaseUrl ? { databaseUrl: options.databaseUrl, schema: options.schema } : {}),
});
const gateway = await createApp({
  database,
  secretBox: new SecretBox(Buffer.from(options.encryptionKeyHex, 'hex')),
  adminKeyHash: hashCredential(options.adminKey),
  clock: () => options.now,
  redisUrl: options.redisUrl,
  redisKeyPrefix: options.redisKeyPrefix,
  ledgerFlushMs: 0,
  logger: createLogger({ level: 'debug', destination: process.stdout }),
});
await gateway.app.listen({ port: 0, host: '127.0.0.1' });

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'reload-keys') {
    void gateway.services.apiKeys.load().then(() => send({ kind: 'reloaded' }));
  } else if (message.kind === 'close') {
    void (async () => {
      await gateway.close();
      await database.close();
      send({ kind: 'closed' });
      process.disconnect();
    })();
  }
});
send({ kind: 'ready', port: (gateway.app.server.address() as AddressInfo).port });
