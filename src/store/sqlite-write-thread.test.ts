import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiKeyRepository } from './api-key-repository.js';
import { openDatabase, type Database } from './database.js';
import { SqliteWriteThread } from './sqlite-write-thread.js';
import type { LedgerRow } from './sqlite-writes.js';
import { UsageLedgerRepository } from './usage-ledger-repository.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dataDirectory(): string {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-write-thread-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

async function openWithThread(dataDir: string, workerUrl?: URL): Promise<{ database: Database; errors: unknown[] }> {
  const errors: unknown[] = [];
  const database = await openDatabase({ dataDir, writeThread: { onError: (error) => errors.push(error), ...(workerUrl ? { workerUrl } : {}) } });
  cleanups.push(() => database.close());
  return { database, errors };
}

function ledgerRow(index: number): LedgerRow {
  return {
    id: `row-${String(index).padStart(5, '0')}`,
    request_id: `request-${index}`,
    api_key_id: 'key-a',
    provider: 'openai',
    model: 'gpt-4o-mini',
    provider_key_id: null,
    request_type: 'chat',
    status: 200,
    stream: 0,
    input_tokens: index,
    output_tokens: 2 * index,
    cached_tokens: 0,
    cost_usd: index / 1000,
    usage_missing: 0,
    error_code: null,
    latency_ms: 10,
    created_at: new Date(Date.UTC(2026, 11, 6, 0, 0, 0, index)).toISOString(),
  };
}

async function ledgerIds(database: Database): Promise<string[]> {
  return (await database.db.selectFrom('usage_ledger').select('id').orderBy('id').execute()).map((row) => row.id);
}

async function insertApiKey(database: Database, id: string): Promise<void> {
  const now = '2026-12-06T00:00:00.000Z';
  await database.db
    .insertInto('api_keys')
    .values({
      id,
      secret_hash: `hash-${id}`,
      last6: 'abcdef',
      type: 'standard',
      description: '',
      consumption_limits: '[]',
      limit_period: 'monthly',
      period_since: now,
      expires_at: null,
      models: '[]',
      rate_limits: '[]',
      created_at: now,
      updated_at: now,
      last_used_at: null,
    })
    .execute();
}

/** Watches what this thread's connections prepare (the worker's connection is in another thread, out of sight). */
function watchPrepared(): () => string[] {
  const prepare = vi.spyOn(SQLite.prototype, 'prepare');
  return () => prepare.mock.calls.map(([text]) => String(text));
}

describe('openDatabase with a write thread', () => {
  it('writes ledger rows and last-used times on the worker, visible to the process at once, and leaves its checkpoints to the worker', async () => {
    const { database, errors } = await openWithThread(dataDirectory());
    await insertApiKey(database, 'key-a');
    const prepared = watchPrepared();

    await new UsageLedgerRepository(database.db).insertBatch(Array.from({ length: 300 }, (_, index) => ledgerRow(index)));
    await new ApiKeyRepository(database.db).touch([{ id: 'key-a', lastUsedAt: Date.UTC(2026, 11, 6, 1, 2, 3) }]);

    expect(await ledgerIds(database)).toHaveLength(300);
    expect(await database.db.selectFrom('api_keys').select('last_used_at').executeTakeFirst()).toEqual({ last_used_at: '2026-12-06T01:02:03.000Z' });
    // Neither write was prepared, let alone run, on this thread's connection.
    expect(prepared().filter((text) => /insert into usage_ledger|update api_keys set last_used_at/i.test(text))).toEqual([]);
    const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db);
    expect(autocheckpoint.rows).toEqual([{ wal_autocheckpoint: 0 }]);
    expect(errors).toEqual([]);
  });

  it('checkpoints from the worker once the log is long, and leaves a whole database file when closed', async () => {
    const dataDir = dataDirectory();
    const { database, errors } = await openWithThread(dataDir);
    const repository = new UsageLedgerRepository(database.db);
    // 20,000 rows in batches of 500: the log passes SQLite's 1,000 frames, and only the worker's commits checkpoint.
    for (let batch = 0; batch < 40; batch += 1) {
      await repository.insertBatch(Array.from({ length: 500 }, (_, index) => ledgerRow(batch * 500 + index)));
    }
    // Unchecked, the log would hold every frame of those commits; checkpointed, it restarts from its beginning.
    const log = await sql<{ busy: number; log: number; checkpointed: number }>`pragma wal_checkpoint(NOOP)`.execute(database.db);
    expect(log.rows[0]!.log).toBeLessThan(1100);
    await database.close();
    expect(existsSync(path.join(dataDir, 'tollgate.db-wal'))).toBe(false);
    const reopened = new SQLite(path.join(dataDir, 'tollgate.db'), { readonly: true });
    expect(reopened.prepare('select count(*) as count from usage_ledger').get()).toEqual({ count: 20_000 });
    reopened.close();
    expect(errors).toEqual([]);
  });

  it('writes on its own connection, checkpoints included, once the worker has stopped', async () => {
    const errors: unknown[] = [];
    let reported!: () => void;
    const stopped = new Promise<void>((resolve) => (reported = resolve));
    const database = await openDatabase({
      dataDir: dataDirectory(),
      writeThread: {
        workerUrl: new URL('./no-such-worker.js', import.meta.url),
        onError(error) {
          errors.push(error);
          reported();
        },
      },
    });
    cleanups.push(() => database.close());
    await stopped;
    expect(errors[0]).toBeInstanceOf(Error);

    await new UsageLedgerRepository(database.db).insertBatch([ledgerRow(1), ledgerRow(2)]);
    expect(await ledgerIds(database)).toEqual(['row-00001', 'row-00002']);
    const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db);
    expect(autocheckpoint.rows).toEqual([{ wal_autocheckpoint: 1000 }]);
  });

  it('waits out a transaction the process has open on the file instead of failing, and is not rolled back with it', async () => {
    const { database, errors } = await openWithThread(dataDirectory());
    const repository = new UsageLedgerRepository(database.db);
    let begun!: () => void;
    const transactionBegun = new Promise<void>((resolve) => (begun = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transaction = database.db.transaction().execute(async (inside) => {
      await inside.insertInto('settings').values({ name: 'rolled-back', value: 'x' }).execute();
      begun();
      await released;
      throw new Error('roll back');
    });
    await transactionBegun;
    // The worker's insert needs the write lock that the transaction holds: it waits (busy timeout) meanwhile.
    const write = repository.insertBatch([ledgerRow(1), ledgerRow(2)]);
    release();
    await expect(transaction).rejects.toThrow('roll back');
    await write;
    expect(await database.db.selectFrom('settings').selectAll().where('name', '=', 'rolled-back').execute()).toEqual([]);
    expect(await ledgerIds(database)).toEqual(['row-00001', 'row-00002']);
    expect(errors).toEqual([]);
  });
});

describe('SqliteWriteThread', () => {
  async function threadOnNewFile(): Promise<{ thread: SqliteWriteThread; file: string; errors: unknown[] }> {
    const dataDir = dataDirectory();
    const database = await openDatabase({ dataDir });
    await database.close();
    const errors: unknown[] = [];
    const thread = new SqliteWriteThread({ file: path.join(dataDir, 'tollgate.db'), busyTimeoutMs: 1000, onError: (error) => errors.push(error) });
    cleanups.push(() => thread.close());
    return { thread, file: path.join(dataDir, 'tollgate.db'), errors };
  }

  it("rejects a failed write with SQLite's reason, writes none of its rows, and goes on writing", async () => {
    const { thread, file, errors } = await threadOnNewFile();
    const incomplete = { ...ledgerRow(2), model: null } as unknown as LedgerRow;
    await expect(thread.run({ kind: 'ledger', rows: [ledgerRow(1), incomplete] })).rejects.toThrow(/NOT NULL constraint failed: usage_ledger\.model/);
    await thread.run({ kind: 'ledger', rows: [ledgerRow(3)] });
    expect(thread.running).toBe(true);
    await thread.close();
    const connection = new SQLite(file, { readonly: true });
    expect(connection.prepare('select id from usage_ledger order by id').all()).toEqual([{ id: 'row-00003' }]);
    connection.close();
    expect(errors).toEqual([]);
  });

  it('answers every write sent before it is closed, then refuses', async () => {
    const { thread, file } = await threadOnNewFile();
    const writes = Array.from({ length: 20 }, (_, batch) => thread.run({ kind: 'ledger', rows: Array.from({ length: 10 }, (_, index) => ledgerRow(batch * 10 + index)) }));
    await thread.close();
    await Promise.all(writes);
    await expect(thread.run({ kind: 'ledger', rows: [ledgerRow(999)] })).rejects.toThrow('not running');
    const connection = new SQLite(file, { readonly: true });
    expect(connection.prepare('select count(*) as count from usage_ledger').get()).toEqual({ count: 200 });
    connection.close();
  });
});
