import { Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { storeKinds, type TestStore } from '../../../test/support/stores.js';
import type { Database } from '../database.js';
import { migrationProvider } from './index.js';

describe.each(storeKinds)('the ledger cache-writes migration ($name)', ({ create }) => {
  let store: TestStore | undefined;
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    await store?.dispose();
    database = undefined;
    store = undefined;
  });

  it('adds cache_write_tokens to a ledger written before it, its earlier rows holding 0', async () => {
    store = create();
    database = await store.open();
    // Back to the schema of the release before, as an upgraded installation has it, with a row written then.
    const migrator = new Migrator({
      db: database.db,
      provider: migrationProvider,
      nameComparator: (left, right) => (left < right ? -1 : left > right ? 1 : 0),
      ...(store.schema ? { migrationTableSchema: store.schema } : {}),
    });
    const down = await migrator.migrateTo('002-api-keys-and-ledger');
    expect(down.error).toBeUndefined();
    await sql`insert into usage_ledger (id, request_id, api_key_id, provider, model, provider_key_id, request_type, status, stream,
      input_tokens, output_tokens, cached_tokens, cost_usd, usage_missing, error_code, latency_ms, created_at)
      values ('old', 'request-old', 'key-a', 'anthropic', 'claude-sonnet-4-5', null, 'messages', 200, 0, 100, 10, 0, 0.001, 0, null, 50,
      '2026-12-01T00:00:00.000Z')`.execute(database.db);
    await database.close();

    database = await store.open();
    const rows = await database.db.selectFrom('usage_ledger').select(['id', 'cache_write_tokens']).execute();
    expect(rows.map((row) => ({ id: row.id, cache_write_tokens: Number(row.cache_write_tokens) }))).toEqual([{ id: 'old', cache_write_tokens: 0 }]);
  });
});
