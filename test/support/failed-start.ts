import { Writable } from 'node:stream';
import { hashCredential } from '../../src/core/auth/authenticator.js';
import { createApp } from '../../src/server/create-app.js';
import { createLogger } from '../../src/server/logger.js';
import type { Database } from '../../src/store/database.js';
import type { SecretBox } from '../../src/store/secret-box.js';
import { testAdminKey } from './test-gateway.js';

/**
 * Builds an app over `database` with `secretBox`, for checks of a start that must fail: resolves with what it
 * failed with (undefined if it started, after closing it) and every line it logged meanwhile.
 */
export async function startExpectingFailure(database: Database, secretBox: SecretBox): Promise<{ error: unknown; logs: string }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const error = await createApp({
    database,
    secretBox,
    adminKeyHash: hashCredential(testAdminKey),
    logger: createLogger({ level: 'debug', destination: sink }),
  }).then(
    async (gateway) => {
      await gateway.close();
      return undefined;
    },
    (failure: unknown) => failure,
  );
  return { error, logs: lines.join('') };
}
