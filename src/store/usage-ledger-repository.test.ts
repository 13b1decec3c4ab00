import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sqliteStore, storeKinds, type TestStore } from '../../test/support/stores.js';
import { LedgerWriter } from '../core/api-keys/ledger-writer.js';
import { sqliteConnectionOf, type Database } from './database.js';
import { LEDGER_INTEGER_COLUMNS, LEDGER_TEXT_COLUMNS, storableLedgerRow } from './storable-ledger-row.js';
import { UsageLedgerRepository, type LedgerRow } from './usage-ledger-repository.js';

const columns = [
  'id',
  'request_id',
  'api_key_id',
  'provider',
  'model',
  'provider_key_id',
  'request_type',
  'status',
  'stream',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'cost_usd',
  'usage_missing',
  'error_code',
  'latency_ms',
  'created_at',
] as const;

function ledgerRow(index: number, overrides: Partial<LedgerRow> = {}): LedgerRow {
  return {
    id: `row-${String(index).padStart(4, '0')}`,
    request_id: `request-${index}`,
    api_key_id: index % 3 === 0 ? 'bootstrap' : 'key-a',
    provider: 'openai',
    model: 'gpt-4o-mini',
    provider_key_id: `openai-key-${index % 2}`,
    request_type: 'chat',
    status: 200,
    stream: index % 2,
    input_tokens: index * 7,
    output_tokens: index * 3,
    cached_tokens: 0,
    cache_write_tokens: index % 4,
    cost_usd: index * 0.000_015,
    usage_missing: 0,
    error_code: null,
    latency_ms: 100 + index,
    created_at: new Date(Date.UTC(2026, 10, 23, 12, 0, 0, index)).toISOString(),
    ...overrides,
  };
}

/** Rows with every kind of value the ledger holds: nulls given and left out, whole and fractional costs, limits. */
function variedRows(): LedgerRow[] {
  const withoutNullables = ledgerRow(3, { status: 502, error_code: 'upstream_error', usage_missing: 1 });
  delete withoutNullables.provider_key_id;
  const withoutErrorCode = ledgerRow(4);
  delete withoutErrorCode.error_code;
  return [
    ledgerRow(0, { cost_usd: 0, input_tokens: 0, output_tokens: 0 }),
    ledgerRow(1, { cost_usd: 1, provider_key_id: null, error_code: 'rate_limit_exceeded', status: 429 }),
    ledgerRow(2, { cost_usd: 0.1 + 0.2, model: 'modèle/ünïcode 模型', request_type: 'messages', stream: 1 }),
    withoutNullables,
    withoutErrorCode,
    ledgerRow(5, { cost_usd: 1e-12, latency_ms: 2 ** 31 + 5, input_tokens: Number.MAX_SAFE_INTEGER, cached_tokens: 12 }),
    ledgerRow(6, { request_id: '', provider_key_id: '' }),
    ...Array.from({ length: 250 }, (_, offset) => ledgerRow(7 + offset)),
  ];
}

/** For a writer in a test whose store must refuse no row: a refusal fails the flush. */
function unexpectedRefusal(row: LedgerRow, error: unknown): never {
  throw new Error(`row ${row.id} refused unexpectedly`, { cause: error });
}

/** Every row, and SQLite's storage class of every value, so that 1 stored as REAL differs from 1 as INTEGER. */
async function readBack(database: Database) {
  const rows = await database.db.selectFrom('usage_ledger').selectAll().orderBy('id').execute();
  if (database.dialect !== 'sqlite') return { rows };
  const storage = await sql<Record<string, string>>`select ${sql.raw(columns.map((column) => `typeof(${column}) as ${column}`).join(', '))}
    from usage_ledger order by id`.execute(database.db);
  return { rows, storage: storage.rows };
}

const opened: Array<{ store: TestStore; database: Database }> = [];
async function open(store: TestStore): Promise<Database> {
  const database = await store.open();
  opened.push({ store, database });
  return database;
}
afterEach(async () => {
  for (const { store, database } of opened.splice(0)) {
    await database.close();
    await store.dispose();
  }
});

describe('UsageLedgerRepository on SQLite', () => {
  it('writes exactly what an insert through Kysely writes, nulls and storage classes included', async () => {
    const fast = await open(sqliteStore());
    const throughKysely = await open(sqliteStore());
    const rows = variedRows();
    await new UsageLedgerRepository(fast.db).insertBatch(rows);
    await throughKysely.db.insertInto('usage_ledger').values(rows.map(storableLedgerRow)).execute();

    const written = await readBack(fast);
    expect(written).toEqual(await readBack(throughKysely));
    expect(written.rows).toHaveLength(rows.length);
    expect(written.rows.find((row) => row.id === 'row-0003')).toMatchObject({ provider_key_id: null, error_code: 'upstream_error', usage_missing: 1 });
    expect(written.rows.find((row) => row.id === 'row-0004')).toMatchObject({ error_code: null });
    // The comparison sees storage classes: a missing provider key id is NULL, a whole cost is still REAL.
    expect(written.storage?.[3]).toMatchObject({ provider_key_id: 'null', cost_usd: 'real', status: 'integer' });
    expect(written.storage?.[1]).toMatchObject({ provider_key_id: 'null', cost_usd: 'real' });
  });

  it('prepares its insert once, not per batch', async () => {
    const database = await open(sqliteStore());
    const connection = sqliteConnectionOf(database.db);
    expect(connection).toBeDefined();
    const prepare = vi.spyOn(connection!, 'prepare');
    const repository = new UsageLedgerRepository(database.db);
    await repository.insertBatch([ledgerRow(1), ledgerRow(2)]);
    await repository.insertBatch(Array.from({ length: 300 }, (_, index) => ledgerRow(10 + index)));
    const inserts = prepare.mock.calls.filter(([text]) => /insert into "?usage_ledger/i.test(text));
    expect(inserts).toHaveLength(1);
    expect(await database.db.selectFrom('usage_ledger').select((builder) => builder.fn.countAll<number>().as('rows')).executeTakeFirst()).toEqual({ rows: 302 });
  });

  it('waits for a transaction Kysely has open on the connection, and is not rolled back with it', async () => {
    const database = await open(sqliteStore());
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
    let written = false;
    const write = repository.insertBatch([ledgerRow(1), ledgerRow(2)]).then(() => (written = true));
    // The write cannot have run yet: Kysely's transaction holds the only connection until it ends.
    await Promise.resolve();
    expect(written).toBe(false);
    release();
    await expect(transaction).rejects.toThrow('roll back');
    await write;
    expect(await database.db.selectFrom('settings').selectAll().where('name', '=', 'rolled-back').execute()).toEqual([]);
    expect((await readBack(database)).rows.map((row) => row.id)).toEqual(['row-0001', 'row-0002']);
  });
});

/** The ledger's columns as the store declares them: text with its length, whole numbers, anything else by its type. */
async function declaredColumns(database: Database): Promise<Record<string, string>> {
  if (database.dialect === 'sqlite') {
    const declared = await sql<{ name: string; type: string }>`select name, type from pragma_table_info('usage_ledger')`.execute(database.db);
    return Object.fromEntries(declared.rows.map(({ name, type }) => [name, type.toLowerCase()]));
  }
  const declared = await sql<{ column_name: string; data_type: string; character_maximum_length: number | null }>`
    select column_name, data_type, character_maximum_length from information_schema.columns
    where table_schema = current_schema() and table_name = 'usage_ledger'`.execute(database.db);
  return Object.fromEntries(
    declared.rows.map(({ column_name, data_type, character_maximum_length }) => [
      column_name,
      data_type === 'character varying' ? `varchar(${character_maximum_length})` : data_type,
    ]),
  );
}

describe.each(storeKinds)('UsageLedgerRepository and LedgerWriter ($name)', ({ create }) => {
  it('declares exactly the text lengths and 32-bit columns the rows are fitted to', async () => {
    const declared = await declaredColumns(await open(create()));
    const fitted: Record<string, string> = { cost_usd: 'double precision' };
    for (const [column, length] of LEDGER_TEXT_COLUMNS) fitted[column] = `varchar(${length})`;
    for (const column of LEDGER_INTEGER_COLUMNS) fitted[column] = 'integer';
    expect(declared).toEqual(fitted);
  });

  it('writes exactly what an insert through Kysely writes, whatever the batch size', async () => {
    const fast = await open(create());
    const throughKysely = await open(create());
    const rows = variedRows();
    const repository = new UsageLedgerRepository(fast.db);
    await repository.insertBatch(rows.slice(0, 1));
    await repository.insertBatch(rows.slice(1));
    await throughKysely.db.insertInto('usage_ledger').values(rows.map(storableLedgerRow)).execute();

    const written = await readBack(fast);
    expect(written).toEqual(await readBack(throughKysely));
    expect(written.rows).toHaveLength(rows.length);
    expect(written.rows.find((row) => row.id === 'row-0003')).toMatchObject({ provider_key_id: null, error_code: 'upstream_error', usage_missing: 1 });
    expect(written.rows.find((row) => row.id === 'row-0002')).toMatchObject({ model: 'modèle/ünïcode 模型', cost_usd: 0.1 + 0.2 });
    // PostgreSQL's integer columns stop at 2^31 - 1: both stores hold counts beyond it at that.
    expect(written.rows.find((row) => row.id === 'row-0005')).toMatchObject({ cost_usd: 1e-12, latency_ms: 2 ** 31 - 1, input_tokens: 2 ** 31 - 1 });
  });

  it('writes the rows whose values do not fit their columns as they fit, with the rows beside them', async () => {
    const database = await open(create());
    const repository = new UsageLedgerRepository(database.db);
    const misfits = [
      ledgerRow(1, { model: `openai/${'m'.repeat(400)}`, request_id: 'r'.repeat(250) }),
      ledgerRow(2, { model: 'gpt\u0000-4o', error_code: 'broken\ud800code' }),
      // A cut at the column's length would fall between the two halves of the emoji.
      ledgerRow(3, { model: `${'x'.repeat(299)}😀tail`, output_tokens: 5e9, cost_usd: Number.NaN }),
      ledgerRow(4),
    ];
    await repository.insertBatch(misfits);
    const stored = (await readBack(database)).rows;
    expect(stored).toHaveLength(4);
    expect(stored[0]).toMatchObject({ model: `openai/${'m'.repeat(293)}`, request_id: 'r'.repeat(200) });
    expect(stored[1]).toMatchObject({ model: 'gpt\ufffd-4o', error_code: 'broken\ufffdcode' });
    expect(stored[2]).toMatchObject({ model: `${'x'.repeat(299)}\ufffd`, output_tokens: 2 ** 31 - 1, cost_usd: 0 });
    expect(stored[3]).toEqual({ ...ledgerRow(4) });
  });

  it('sets aside a row the store refuses on its own, and writes the others of its batch', async () => {
    const database = await open(create());
    const repository = new UsageLedgerRepository(database.db);
    const refused: Array<{ row: LedgerRow; error: unknown }> = [];
    const failures: unknown[] = [];
    const writer = new LedgerWriter(repository, {
      intervalMs: 0,
      batchSize: 10_000,
      onError: (error) => failures.push(error),
      onRowRefused: (row, error) => refused.push({ row, error }),
    });
    // A row without its model breaks the column's NOT NULL: no retry can write it.
    const incomplete = { ...ledgerRow(5), model: null } as unknown as LedgerRow;
    for (let index = 0; index < 10; index += 1) writer.append(index === 5 ? incomplete : ledgerRow(index));
    await writer.flush();
    expect(failures).toEqual([]);
    expect(refused.map(({ row }) => row.id)).toEqual(['row-0005']);
    expect(writer.pending).toBe(0);
    expect((await readBack(database)).rows.map((row) => row.id)).toEqual(['row-0000', 'row-0001', 'row-0002', 'row-0003', 'row-0004', 'row-0006', 'row-0007', 'row-0008', 'row-0009']);

    // The next batch is written as usual.
    writer.append(ledgerRow(10));
    await writer.close();
    expect((await readBack(database)).rows).toHaveLength(10);
  });

  it('writes a batch all or none, and writes a batch sent again once', async () => {
    const database = await open(create());
    const repository = new UsageLedgerRepository(database.db);
    // The last of 251 rows lacks its model (NOT NULL): none of the 250 before it may be stored.
    const incomplete = { ...ledgerRow(250), model: null } as unknown as LedgerRow;
    await expect(repository.insertBatch([...Array.from({ length: 250 }, (_, index) => ledgerRow(index)), incomplete])).rejects.toThrow();
    expect((await readBack(database)).rows).toEqual([]);

    // A batch whose commit went through but whose answer was lost is sent again, with new rows behind it.
    await repository.insertBatch([ledgerRow(100), ledgerRow(101)]);
    await repository.insertBatch([ledgerRow(100), ledgerRow(101), ledgerRow(102, { request_id: 'after the retry' })]);
    const stored = (await readBack(database)).rows;
    expect(stored.map((row) => row.id)).toEqual(['row-0100', 'row-0101', 'row-0102']);
    expect(stored[0]).toEqual({ ...ledgerRow(100) });
  });

  it('keeps the rows of a failed write for the next try, and loses none of them', async () => {
    const database = await open(create());
    const repository = new UsageLedgerRepository(database.db);
    const batch = Array.from({ length: 250 }, (_, index) => ledgerRow(index));
    const errors: unknown[] = [];
    const writer = new LedgerWriter(repository, { intervalMs: 0, batchSize: 10_000, onError: (error) => errors.push(error), onRowRefused: unexpectedRefusal });
    // While the ledger's table is away, every write fails.
    await sql`alter table usage_ledger rename to usage_ledger_away`.execute(database.db);
    for (const row of batch) writer.append(row);
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(writer.pending).toBe(batch.length);

    await sql`alter table usage_ledger_away rename to usage_ledger`.execute(database.db);
    writer.append(ledgerRow(300));
    await writer.close();
    expect(writer.pending).toBe(0);
    const stored = (await readBack(database)).rows;
    expect(stored).toHaveLength(batch.length + 1);
    expect(stored.find((row) => row.id === 'row-0000')).toEqual({ ...ledgerRow(0) });
    expect(stored.at(-1)).toEqual({ ...ledgerRow(300) });
  });

  it('writes once the rows of a write that went through but was answered with an error, when the writer tries again', async () => {
    const database = await open(create());
    const repository = new UsageLedgerRepository(database.db);
    let answerLost = true;
    // The connection drops after the commit: the rows are stored, but the writer is told the write failed.
    const droppingAfterCommit = {
      async insertBatch(rows: readonly LedgerRow[]) {
        await repository.insertBatch(rows);
        if (!answerLost) return;
        answerLost = false;
        throw new Error('connection lost after the commit');
      },
    } as unknown as UsageLedgerRepository;
    const errors: unknown[] = [];
    const writer = new LedgerWriter(droppingAfterCommit, { intervalMs: 0, batchSize: 10_000, onError: (error) => errors.push(error), onRowRefused: unexpectedRefusal });
    for (let index = 0; index < 5; index += 1) writer.append(ledgerRow(index));
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(writer.pending).toBe(5);

    writer.append(ledgerRow(5));
    await writer.close();
    expect(errors).toHaveLength(1);
    expect(writer.pending).toBe(0);
    expect((await readBack(database)).rows).toEqual(Array.from({ length: 6 }, (_, index) => ({ ...ledgerRow(index) })));
  });
});
