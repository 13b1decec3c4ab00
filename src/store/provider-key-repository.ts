import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';
import { joinSecrets, splitSecrets, type KeyRecord } from './key-record.js';
import { SecretUnreadableError, type SecretBox } from './secret-box.js';

/** Reads and writes provider keys; secrets are encrypted on the way in and decrypted on the way out. */
export class ProviderKeyRepository {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly box: SecretBox,
  ) {}

  /** Every key, decrypted. Runs at start and on refresh, never on the request path. */
  async list(): Promise<KeyRecord[]> {
    const rows = await this.db.selectFrom('provider_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => {
      const secrets = JSON.parse(this.#open(row.id, row.secrets).plaintext) as Record<string, string>;
      const record = joinSecrets(JSON.parse(row.document) as Record<string, unknown>, secrets);
      record.config_hash = row.config_hash;
      record.status = row.status;
      return record;
    });
  }

  /**
   * Seals again with the current key every key's secrets that a previous key sealed, and returns how many. Each row
   * is written only if it still holds the blob that was read, so a key changed meanwhile by another process keeps
   * that change (it is sealed with that process's current key, and the next start looks again).
   */
  async reencryptSecrets(): Promise<number> {
    const rows = await this.db.selectFrom('provider_keys').select(['id', 'secrets']).execute();
    let sealedAgain = 0;
    for (const row of rows) {
      const opened = this.#open(row.id, row.secrets);
      if (opened.current) continue;
      const result = await this.db
        .updateTable('provider_keys')
        .set({ secrets: this.box.encrypt(opened.plaintext, row.id) })
        .where('id', '=', row.id)
        .where('secrets', '=', row.secrets)
        .executeTakeFirst();
      sealedAgain += Number(result.numUpdatedRows);
    }
    return sealedAgain;
  }

  #open(id: string, blob: string): { plaintext: string; current: boolean } {
    try {
      return this.box.open(blob, id);
    } catch (error) {
      if (!(error instanceof SecretUnreadableError)) throw error;
      throw new SecretUnreadableError(
        `Provider key "${id}": its stored secrets do not open with the configured encryption key(s). ` +
          'If TOLLGATE_ENCRYPTION_KEY was changed, give the old key in TOLLGATE_PREVIOUS_ENCRYPTION_KEYS.',
      );
    }
  }

  async insert(record: KeyRecord): Promise<void> {
    await this.db.insertInto('provider_keys').values(this.toRow(record)).execute();
  }

  async update(record: KeyRecord): Promise<void> {
    const { id, ...rest } = this.toRow(record);
    await this.db.updateTable('provider_keys').set(rest).where('id', '=', id).execute();
  }

  async updateStatus(id: string, status: string): Promise<void> {
    await this.db.updateTable('provider_keys').set({ status }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('provider_keys').where('id', '=', id).execute();
  }

  async deleteByProvider(provider: string): Promise<void> {
    await this.db.deleteFrom('provider_keys').where('provider', '=', provider).execute();
  }

  private toRow(record: KeyRecord) {
    const { document, secrets } = splitSecrets(record);
    delete document.config_hash;
    delete document.status;
    return {
      id: record.id,
      provider: record.provider,
      name: record.name,
      document: JSON.stringify(document),
      secrets: this.box.encrypt(JSON.stringify(secrets), record.id),
      config_hash: record.config_hash,
      status: record.status,
      created_at: record.created_at,
      updated_at: record.updated_at,
    };
  }
}
