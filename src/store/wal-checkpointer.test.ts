import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from './database.js';
import { WalCheckpointer, type CheckpointState } from './wal-checkpointer.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function walDatabase(): { file: string; connection: SQLite.Database } {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-'));
  const file = path.join(directory, 'test.db');
  const connection = new SQLite(file);
  connection.pragma('journal_mode = WAL');
  connection.exec('create table rows (id integer primary key, text text not null)');
  cleanups.push(() => {
    if (connection.open) connection.close();
    rmSync(directory, { recursive: true, force: true });
  });
  return { file, connection };
}

/** Commits `count` rows one transaction each: one or more log frames a commit. */
function writeRows(connection: SQLite.Database, count: number): void {
  const insert = connection.prepare('insert into rows (text) values (?)');
  for (let index = 0; index < count; index += 1) insert.run(`row ${index} ${'x'.repeat(200)}`);
}

function logState(connection: SQLite.Database): CheckpointState {
  return (connection.pragma('wal_checkpoint(NOOP)') as CheckpointState[])[0]!;
}

describe('WalCheckpointer', () => {
  it("turns the connection's own checkpoints off and copies the log into the database from its worker", async () => {
    const { file, connection } = walDatabase();
    const onError = vi.fn();
    const checkpointer = new WalCheckpointer({ file, connection, onError });
    cleanups.push(() => checkpointer.close());
    expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(0);

    // Past SQLite's own threshold (1,000 frames), which would have checkpointed inside one of these commits.
    writeRows(connection, 1500);
    const before = logState(connection);
    expect(before.log).toBeGreaterThan(1000);
    expect(before.checkpointed).toBe(0);

    const state = await checkpointer.checkpoint();
    expect(state.busy).toBe(0);
    expect(state.checkpointed).toBe(state.log);
    expect(logState(connection).checkpointed).toBe(before.log);
    expect(connection.prepare('select count(*) as count from rows').get()).toEqual({ count: 1500 });
    expect(onError).not.toHaveBeenCalled();
  });

  it('checkpoints on its own once enough frames wait', async () => {
    const { file, connection } = walDatabase();
    const checkpointer = new WalCheckpointer({ file, connection, intervalMs: 10, thresholdFrames: 50, onError: vi.fn() });
    cleanups.push(() => checkpointer.close());
    writeRows(connection, 200);
    await vi.waitFor(
      () => {
        const state = logState(connection);
        expect(state.checkpointed).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 20 },
    );
  });

  it('gives the connection its checkpoints back when closed', async () => {
    const { file, connection } = walDatabase();
    const checkpointer = new WalCheckpointer({ file, connection, onError: vi.fn() });
    await checkpointer.close();
    expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await expect(checkpointer.checkpoint()).rejects.toThrow('not running');
  });

  it('gives the connection its checkpoints back and reports it when the worker cannot run', async () => {
    const { file, connection } = walDatabase();
    const failed = new Promise<unknown>((resolve) => {
      const checkpointer = new WalCheckpointer({ file, connection, workerUrl: new URL('./no-such-worker.js', import.meta.url), onError: resolve });
      cleanups.push(() => checkpointer.close());
    });
    expect(await failed).toBeInstanceOf(Error);
    expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});

describe('openDatabase with background checkpoints', () => {
  it('runs the store as usual and leaves a checkpointed file behind when closed', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-store-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const onError = vi.fn();
    const database = await openDatabase({ dataDir, backgroundCheckpoints: { onError } });
    const settings = await database.db.selectFrom('settings').selectAll().execute();
    expect(Array.isArray(settings)).toBe(true);
    expect(existsSync(path.join(dataDir, 'tollgate.db-wal'))).toBe(true);
    await database.close();
    // The last connection to close checkpoints the whole log and removes it.
    expect(existsSync(path.join(dataDir, 'tollgate.db-wal'))).toBe(false);
    expect(onError).not.toHaveBeenCalled();
  });
});
