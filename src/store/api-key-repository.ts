import type { Kysely, Selectable } from 'kysely';
import type { ApiKeyRecord } from './api-key-record.js';
import type { ApiKeyTable, DatabaseSchema } from './schema.js';

const iso = (milliseconds: number) => new Date(milliseconds).toISOString();
const optionalIso = (milliseconds: number | null) => (milliseconds === null ? null : iso(milliseconds));

/** Reads and writes client API keys (only the SHA-256 of a secret is ever stored). */
export class ApiKeyRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(fromRow);
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.db.insertInto('api_keys').values(toRow(record)).execute();
  }

  async update(record: ApiKeyRecord): Promise<void> {
    const { id, secret_hash: _hash, ...rest } = toRow(record);
    await this.db.updateTable('api_keys').set(rest).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('api_keys').where('id', '=', id).execute();
  }

  /** Writes debounced last-used times in one transaction. */
  async touch(entries: Array<{ id: string; lastUsedAt: number }>): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction().execute(async (transaction) => {
      for (const entry of entries) {
        await transaction.updateTable('api_keys').set({ last_used_at: iso(entry.lastUsedAt) }).where('id', '=', entry.id).execute();
      }
    });
  }
}

function toRow(record: ApiKeyRecord): Selectable<ApiKeyTable> {
  return {
    id: record.id,
    secret_hash: record.secretHash,
    last6: record.last6,
    type: record.type,
    description: record.description,
    consumption_limits: JSON.stringify(record.limits),
    limit_period: record.period,
    period_since: iso(record.periodSince),
    expires_at: optionalIso(record.expiresAt),
    models: JSON.stringify(record.models),
    rate_limits: JSON.stringify(record.rateLimits),
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
    last_used_at: optionalIso(record.lastUsedAt),
  };
}

function fromRow(row: Selectable<ApiKeyTable>): ApiKeyRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    last6: row.last6,
    type: row.type as ApiKeyRecord['type'],
    description: row.description,
    limits: JSON.parse(row.consumption_limits) as ApiKeyRecord['limits'],
    period: row.limit_period as ApiKeyRecord['period'],
    periodSince: Date.parse(row.period_since),
    expiresAt: row.expires_at === null ? null : Date.parse(row.expires_at),
    models: JSON.parse(row.models) as string[],
    rateLimits: JSON.parse(row.rate_limits) as ApiKeyRecord['rateLimits'],
    createdAt: Date.parse(row.created_at),
    updatedAt: Date.parse(row.updated_at),
    lastUsedAt: row.last_used_at === null ? null : Date.parse(row.last_used_at),
  };
}
