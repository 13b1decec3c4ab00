import type { Insertable, Kysely } from 'kysely';
import type { DatabaseSchema, UsageLedgerTable } from './schema.js';

export type LedgerRow = Insertable<UsageLedgerTable>;

/** Totals of one API key's usage since a moment. */
export interface UsageTotals {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

/** Writes ledger rows (in batches) and reads the sums the counters are rebuilt from. */
export class UsageLedgerRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  /** Inserts rows in one statement per chunk (the parameter limits of SQLite and PostgreSQL stay far away). */
  async insertBatch(rows: LedgerRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += 200) {
      await this.db.insertInto('usage_ledger').values(rows.slice(start, start + 200)).execute();
    }
  }

  /** Sums per API key of the rows created at or after `since` (ISO), for the given keys. */
  async totalsSince(apiKeyIds: string[], since: (apiKeyId: string) => string): Promise<Map<string, UsageTotals>> {
    const totals = new Map<string, UsageTotals>();
    for (const apiKeyId of apiKeyIds) {
      const row = await this.db
        .selectFrom('usage_ledger')
        .select((builder) => [
          builder.fn.coalesce(builder.fn.sum<number>('cost_usd'), builder.lit(0)).as('cost'),
          builder.fn.coalesce(builder.fn.sum<number>('input_tokens'), builder.lit(0)).as('input'),
          builder.fn.coalesce(builder.fn.sum<number>('output_tokens'), builder.lit(0)).as('output'),
          builder.fn.countAll<number>().as('requests'),
        ])
        .where('api_key_id', '=', apiKeyId)
        .where('created_at', '>=', since(apiKeyId))
        .executeTakeFirst();
      totals.set(apiKeyId, {
        costUsd: Number(row?.cost ?? 0),
        inputTokens: Number(row?.input ?? 0),
        outputTokens: Number(row?.output ?? 0),
        requests: Number(row?.requests ?? 0),
      });
    }
    return totals;
  }
}
