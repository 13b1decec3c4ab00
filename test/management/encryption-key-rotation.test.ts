/**
 * Rotating the encryption key of the secrets at rest, as an operator does it: start with the new key as
 * TOLLGATE_ENCRYPTION_KEY and the old one in TOLLGATE_PREVIOUS_ENCRYPTION_KEYS. That start reads every secret and
 * seals each again with the new key, so that the next start needs the new key alone; a store whose secrets open
 * with no configured key refuses to start with a message that names the key and the remedy, and no secret.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/store/secret-box.js';
import { startOpenAIMock, type OpenAIMock } from '../mocks/openai-mock.js';
import { startEntryPoint } from '../support/entry-point-process.js';
import { startExpectingFailure } from '../support/failed-start.js';
import { sqliteStore, storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, testAdminKey } from '../support/test-gateway.js';

const oldKey = Buffer.alloc(32, 11);
const newKey = Buffer.alloc(32, 22);
const secrets = { openai: 'sk-ROTATEDOPENAI-0001', bedrockSecret: 'wJalr/ROTATEDBEDROCK/0002' };

describe.each(storeKinds)('rotating the encryption key ($name)', ({ create }) => {
  let store: TestStore;
  const ids: string[] = [];

  beforeAll(async () => {
    store = create();
    const before = await startTestGateway(store, { secretBox: new SecretBox(oldKey) });
    for (const [provider, body] of [
      ['openai', { name: 'plain', value: secrets.openai }],
      ['bedrock', { name: 'aws', value: '', bedrock_key_config: { access_key: 'AKIAROTATION', secret_key: secrets.bedrockSecret, region: 'us-east-1' } }],
    ] as const) {
      const created = await before.request({ method: 'POST', url: `/api/providers/${provider}/keys`, body });
      expect(created.status, created.text).toBe(201);
      ids.push(created.body.id as string);
    }
    await before.close();
  });
  afterAll(async () => {
    await store.dispose();
  });

  async function storedBlobs(): Promise<Map<string, string>> {
    const database = await store.open();
    try {
      const rows = await database.db.selectFrom('provider_keys').select(['id', 'secrets']).execute();
      return new Map(rows.map((row) => [row.id, row.secrets]));
    } finally {
      await database.close();
    }
  }

  it('reads the old secrets with the old key given as previous, and seals every one again with the new key', async () => {
    const blobsBefore = await storedBlobs();
    const rotating = await startTestGateway(store, { secretBox: new SecretBox(newKey, [oldKey]) });
    const keys = rotating.gateway.services.catalog.snapshot.keys;
    expect(keys.get(ids[0]!)?.value).toEqual({ kind: 'value', value: secrets.openai });
    expect(keys.get(ids[1]!)?.bedrock_key_config?.secret_key).toEqual({ kind: 'value', value: secrets.bedrockSecret });
    expect(rotating.logs.join('')).toContain('"keys":2,"msg":"provider key secrets re-encrypted with the current encryption key"');
    await rotating.close();

    const blobsAfter = await storedBlobs();
    const newOnly = new SecretBox(newKey);
    for (const id of ids) {
      expect(blobsAfter.get(id)).not.toBe(blobsBefore.get(id));
      expect(newOnly.open(blobsAfter.get(id)!, id).current).toBe(true);
    }
  });

  it('then starts with the new key alone, sealing nothing again', async () => {
    const rotated = await startTestGateway(store, { secretBox: new SecretBox(newKey) });
    expect(rotated.gateway.services.catalog.snapshot.keys.get(ids[0]!)?.value).toEqual({ kind: 'value', value: secrets.openai });
    expect(rotated.logs.join('')).not.toContain('re-encrypted');
    await rotated.close();
  });

  it('refuses to start when no configured key opens the secrets, naming the key and the remedy but no secret', async () => {
    const database = await store.open();
    try {
      const { error, logs } = await startExpectingFailure(database, new SecretBox(oldKey));
      expect((error as Error).message).toMatch(new RegExp(`Provider key "(${ids.join('|')})": its stored secrets do not open`));
      expect((error as Error).message).toContain('TOLLGATE_PREVIOUS_ENCRYPTION_KEYS');
      const shown = `${(error as Error).message}\n${(error as Error).stack}\n${logs}`;
      for (const secret of Object.values(secrets)) expect(shown).not.toContain(secret);
    } finally {
      await database.close();
    }
  });
});

describe('rotating the encryption key through the real entry point', () => {
  let mock: OpenAIMock;
  let store: TestStore;

  beforeAll(async () => {
    mock = await startOpenAIMock({ apiKeys: [secrets.openai] });
    store = sqliteStore();
  });
  afterAll(async () => {
    await mock.close();
    await store.dispose();
  });

  /** Starts `src/index.ts` over the store with these keys, has it serve one completion, and stops it. */
  async function serveOnce(keys: Record<string, string>, prepare?: (base: string) => Promise<void>): Promise<string> {
    const gateway = await startEntryPoint({ TOLLGATE_DATA_DIR: store.dataDir, TOLLGATE_ADMIN_KEY: testAdminKey, LOG_LEVEL: 'info', ...keys });
    try {
      await prepare?.(gateway.base);
      const client = new OpenAI({ apiKey: testAdminKey, baseURL: `${gateway.base}/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'still readable' }] });
      expect(completion.choices[0]!.message.content).toBe('still readable');
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
    return gateway.output();
  }

  it('serves with the old key, then with the new key and the old as previous, then with the new key alone', { timeout: 60_000 }, async () => {
    const old = { TOLLGATE_ENCRYPTION_KEY: oldKey.toString('hex') };
    await serveOnce(old, async (base) => {
      const admin = { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' };
      const configured = await fetch(`${base}/api/providers/openai`, { method: 'PUT', headers: admin, body: JSON.stringify({ network_config: { base_url: mock.baseUrl } }) });
      expect(configured.status).toBe(200);
      const added = await fetch(`${base}/api/providers/openai/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'rotated', value: secrets.openai }) });
      expect(added.status).toBe(201);
    });
    const rotating = await serveOnce({ TOLLGATE_ENCRYPTION_KEY: newKey.toString('hex'), TOLLGATE_PREVIOUS_ENCRYPTION_KEYS: oldKey.toString('base64') });
    expect(rotating).toContain('provider key secrets re-encrypted with the current encryption key');
    const rotated = await serveOnce({ TOLLGATE_ENCRYPTION_KEY: newKey.toString('hex') });
    expect(rotated).not.toContain('re-encrypted');
    expect(mock.requests.map((request) => request.headers.authorization)).toEqual(Array(3).fill(`Bearer ${secrets.openai}`));
    for (const output of [rotating, rotated]) expect(output).not.toContain(secrets.openai);
  });
});
