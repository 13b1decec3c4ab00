import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config/config-file.js';
import { reconcileConfigFile } from '../../src/core/management/config-reconcile.js';
import type { Database } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startExpectingFailure } from '../support/failed-start.js';
import { storeText } from '../support/store-text.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, testAdminKey, testEncryptionKey, type TestGateway } from '../support/test-gateway.js';

type Response = Awaited<ReturnType<TestGateway['request']>>;

/** Every secret this suite hands to Tollgate. The upper-case "…MID…" runs are scanned for on their own too. */
const secret = {
  openai: 'sk-proj-OPENAIMIDDLE7731-tail9999',
  openaiOld: 'sk-proj-REPLACEDOLDMID5512-tail0000',
  azureValue: 'azure-AZUREVALUEMID4411-key1',
  azureClientSecret: 'cs~AZURECLIENTSECRETMID8822~x',
  azureKey2: 'az2-AZUREKEYTWOMID3311-zz',
  vertexCredentials: JSON.stringify({
    type: 'service_account',
    project_id: 'proj',
    private_key: '-----BEGIN PRIVATE KEY-----\nVERTEXPRIVATEMID6644\n-----END PRIVATE KEY-----\n',
  }),
  bedrockAccess: 'AKIABEDROCKACCESSMID91',
  bedrockSecret: 'wJalr/BEDROCKSECRETMID2288/KEY',
  bedrockSession: 'FwoGZXIvYXdzEBEDROCKSESSIONMID7755',
  tiny: 'Qz7Wk',
  eight: 'Ab3De6Gh',
  nine: 'Ab3De6GhJ',
  seedValue: 'sk-SEEDVALUEMID1199-abcd',
  seedKey2: 'k2-SEEDKEYTWOMID2299-ab',
  seedSecretAccess: 'SEEDSECRETACCESSMID3399xx',
  seedSession: 'SEEDSESSIONMID4499yyyy',
  configValue: 'sk-CONFIGFILEMID5599-zz',
  fromEnvironment: 'envsecret-ENVVALUEMID6699',
};
const needles = [...new Set(Object.values(secret).flatMap((value) => [value, ...(value.match(/[A-Z]+MID\d{2,4}/g) ?? [])]))];
/** A non-secret marker stored in clear, to prove that each scan reads the data it claims to read. */
const canary = 'CANARYKEYNAME4242';

const literal = (value: string) => ({ value, env_var: '', from_env: false });
const stars = '*'.repeat(24);

function leaked(text: string): string[] {
  return needles.filter((needle) => text.includes(needle));
}

function expectError(response: Response, status: number, param?: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toMatchObject({ status_code: status, is_bifrost_error: true, error: { event_id: response.body.event_id } });
  if (param !== undefined) expect(response.body.error.param).toBe(param);
}

describe.each(storeKinds)('secrets at rest and in transit ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  const responses: string[] = [];
  const allLogs: string[] = [];
  const environment: Record<string, string | undefined> = { TG_SECRET_FROM_ENV: secret.fromEnvironment };
  const ids: Record<string, string> = {};
  let configDir: string;

  /** Every request goes through here, so that every response can be checked for leaks at the end. */
  async function call(options: Parameters<TestGateway['request']>[0]): Promise<Response> {
    const response = await tollgate.request(options);
    responses.push(`${response.text}\n${JSON.stringify(response.headers)}`);
    return response;
  }
  const stored = (id: string) => tollgate.gateway.services.catalog.snapshot.keys.get(id)!;
  async function restart(): Promise<void> {
    allLogs.push(...tollgate.logs);
    await tollgate.close();
    tollgate = await startTestGateway(store, { environment });
  }

  beforeAll(async () => {
    store = create();
    tollgate = await startTestGateway(store, { environment });
    configDir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-secrets-config-'));
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('redacts every secret field: first 4, 24 *, last 4; 8 characters or fewer as 8 *', async () => {
    const azure = await call({
      method: 'POST',
      url: '/api/providers/azure/keys',
      body: {
        name: canary,
        value: secret.azureValue,
        azure_key_config: {
          endpoint: 'https://contoso-long-endpoint-name.openai.azure.com',
          client_id: 'client-id-shown-in-full-0001',
          client_secret: secret.azureClientSecret,
          tenant_id: 'tenant-id-shown-in-full-0002',
          key2: secret.azureKey2,
        },
      },
    });
    expect(azure.status).toBe(201);
    ids.azure = azure.body.id;
    expect(azure.body.value).toEqual(literal(`azur${stars}key1`));
    expect(azure.body.azure_key_config).toMatchObject({
      endpoint: literal('https://contoso-long-endpoint-name.openai.azure.com'),
      client_id: literal('client-id-shown-in-full-0001'),
      client_secret: literal(`cs~A${stars}22~x`),
      tenant_id: literal('tenant-id-shown-in-full-0002'),
      key2: literal(`az2-${stars}1-zz`),
    });

    const vertex = await call({
      method: 'POST',
      url: '/api/providers/vertex/keys',
      body: { name: 'vertex', vertex_key_config: { project_id: 'proj', region: 'us-central1', auth_credentials: secret.vertexCredentials } },
    });
    ids.vertex = vertex.body.id;
    expect(vertex.body.vertex_key_config.auth_credentials).toEqual(literal(`{"ty${stars}\\n"}`));
    expect(vertex.body.vertex_key_config.auth_credentials.value).toHaveLength(32);

    const bedrock = await call({
      method: 'POST',
      url: '/api/providers/bedrock/keys',
      body: {
        name: 'bedrock',
        bedrock_key_config: { access_key: secret.bedrockAccess, secret_key: secret.bedrockSecret, session_token: secret.bedrockSession, region: 'us-east-1' },
      },
    });
    ids.bedrock = bedrock.body.id;
    expect(bedrock.body.bedrock_key_config).toMatchObject({
      access_key: literal(`AKIA${stars}ID91`),
      secret_key: literal(`wJal${stars}/KEY`),
      session_token: literal(`FwoG${stars}7755`),
      region: literal('us-east-1'),
    });

    for (const [name, value, shown] of [
      ['tiny', secret.tiny, '********'],
      ['eight', secret.eight, '********'],
      ['nine', secret.nine, `Ab3D${stars}6GhJ`],
      ['openai', secret.openaiOld, `sk-p${stars}0000`],
    ] as const) {
      const created = await call({ method: 'POST', url: '/api/providers/openai/keys', body: { name, value } });
      expect(created.status).toBe(201);
      expect(created.body.value).toEqual(literal(shown));
      ids[name] = created.body.id;
    }
    const listed = await call({ method: 'GET', url: '/api/keys' });
    expect(listed.body.total).toBe(7);
    expect(leaked(listed.text)).toEqual([]);
  });

  it('keeps the stored secrets when a PUT sends back the redacted values', async () => {
    for (const [provider, name] of [['azure', 'azure'], ['vertex', 'vertex'], ['bedrock', 'bedrock'], ['openai', 'tiny'], ['openai', 'eight'], ['openai', 'nine']] as const) {
      const id = ids[name]!;
      const before = stored(id);
      const fetched = await call({ method: 'GET', url: `/api/providers/${provider}/keys/${id}` });
      tollgate.clock.now += 1000;
      const replaced = await call({ method: 'PUT', url: `/api/providers/${provider}/keys/${id}`, body: fetched.body });
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body).toEqual({ ...fetched.body, updated_at: new Date(tollgate.clock.now).toISOString() });
      expect(stored(id)).toEqual({ ...before, updated_at: new Date(tollgate.clock.now).toISOString() });
    }
  });

  it('replaces only the secrets sent in full', async () => {
    const fetched = (await call({ method: 'GET', url: `/api/providers/openai/keys/${ids.openai}` })).body;
    expect((await call({ method: 'PUT', url: `/api/providers/openai/keys/${ids.openai}`, body: { ...fetched, value: secret.openai } })).status).toBe(200);
    expect(stored(ids.openai!).value).toEqual({ kind: 'value', value: secret.openai });

    const azure = (await call({ method: 'GET', url: `/api/providers/azure/keys/${ids.azure}` })).body;
    const changed = await call({
      method: 'PUT',
      url: `/api/providers/azure/keys/${ids.azure}`,
      body: { ...azure, azure_key_config: { ...azure.azure_key_config, key2: 'az2-rotated-secondary-0001' } },
    });
    expect(changed.status).toBe(200);
    expect(stored(ids.azure!).value).toEqual({ kind: 'value', value: secret.azureValue });
    expect(stored(ids.azure!).azure_key_config?.client_secret).toEqual({ kind: 'value', value: secret.azureClientSecret });
    expect(stored(ids.azure!).azure_key_config?.key2).toEqual({ kind: 'value', value: 'az2-rotated-secondary-0001' });
    // The old GET body is stale now: its redacted key2 matches the previous secret, not the stored one.
    const stale = await call({ method: 'PUT', url: `/api/providers/azure/keys/${ids.azure}`, body: azure });
    expectError(stale, 400, 'azure_key_config.key2');
    expect(stored(ids.azure!).azure_key_config?.key2).toEqual({ kind: 'value', value: 'az2-rotated-secondary-0001' });
    // Rotate back, so that the stored value is again the one this suite scans for.
    await call({ method: 'PUT', url: `/api/providers/azure/keys/${ids.azure}`, body: { ...azure, azure_key_config: { ...azure.azure_key_config, key2: secret.azureKey2 } } });
    expect(stored(ids.azure!).azure_key_config?.key2).toEqual({ kind: 'value', value: secret.azureKey2 });
  });

  it('refuses a redacted-looking value that does not match the stored secret', async () => {
    const before = stored(ids.openai!);
    const id = ids.openai!;
    for (const wrong of [`sk-X${stars}9999`, `sk-p${stars}9998`, '********']) {
      const response = await call({ method: 'PUT', url: `/api/providers/openai/keys/${id}`, body: { name: 'openai', value: wrong } });
      expectError(response, 400, 'value');
    }
    expect(stored(id)).toEqual(before);
    // A long secret shown as 8 * would be a different key: the 8-* form only matches a short stored secret.
    expectError(await call({ method: 'PUT', url: `/api/providers/openai/keys/${ids.nine}`, body: { name: 'nine', value: '********' } }), 400, 'value');
    // Nothing is stored to compare with on create.
    expectError(await call({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'new', value: `sk-p${stars}9999` } }), 400, 'value');
    expectError(await call({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'new', value: { value: '********' } } }), 400, 'value');
    // Sub-config secrets name their path.
    const bedrock = (await call({ method: 'GET', url: `/api/providers/bedrock/keys/${ids.bedrock}` })).body;
    const response = await call({
      method: 'PUT',
      url: `/api/providers/bedrock/keys/${ids.bedrock}`,
      body: { ...bedrock, bedrock_key_config: { ...bedrock.bedrock_key_config, session_token: { value: `Fwo_${stars}7755` } } },
    });
    expectError(response, 400, 'bedrock_key_config.session_token');
    // A redacted value sent for a secret that is now an env reference matches nothing.
    const reference = await call({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'from-env', value: 'env.TG_SECRET_FROM_ENV' } });
    expect(reference.body.status).toBe('active');
    ids.fromEnv = reference.body.id;
    expectError(await call({ method: 'PUT', url: `/api/providers/openai/keys/${ids.fromEnv}`, body: { name: 'from-env', value: `envs${stars}6699` } }), 400, 'value');
  });

  it('encrypts what seed 000 and the config file write too', async () => {
    const azure = await call({
      method: 'PUT',
      url: '/v1/models',
      admin: false,
      headers: { 'x-maxim-api-key': testAdminKey },
      body: { id: ids.tiny, value: secret.seedValue },
    });
    expect(azure.status).toBe(200);
    const key2 = await call({ method: 'PUT', url: '/v1/models', body: { id: ids.azure, meta: { key2: secret.seedKey2 } } });
    expect(key2.status).toBe(200);
    expect(key2.body.data.meta).toEqual({ key2: `k2-S${stars}9-ab` });
    const bedrock = await call({ method: 'PUT', url: '/v1/models', body: { id: ids.bedrock, meta: { secretAccessKey: secret.seedSecretAccess, sessionToken: secret.seedSession } } });
    expect(bedrock.status).toBe(200);
    expect(stored(ids.bedrock!).bedrock_key_config?.secret_key).toEqual({ kind: 'value', value: secret.seedSecretAccess });

    const file = path.join(configDir, 'tollgate.yaml');
    writeFileSync(file, `providers:\n  anthropic:\n    keys:\n      - name: from-config\n        value: ${secret.configValue}\n`);
    const report = await reconcileConfigFile(readConfigFile(file), { ...tollgate.gateway.services, clock: () => tollgate.clock.now });
    expect(report.keysCreated).toEqual(['anthropic/from-config']);
    const configKey = [...tollgate.gateway.services.catalog.snapshot.keys.values()].find((key) => key.name === 'from-config')!;
    expect(configKey.value).toEqual({ kind: 'value', value: secret.configValue });
    ids.config = configKey.id;
  });

  it('keeps the secrets across a restart: they still decrypt', async () => {
    const before = new Map(tollgate.gateway.services.catalog.snapshot.keys);
    const listed = (await call({ method: 'GET', url: '/api/keys' })).body;
    await restart();
    const after = tollgate.gateway.services.catalog.snapshot.keys;
    expect(after.size).toBe(before.size);
    for (const [id, record] of before) expect(after.get(id)).toEqual(record);
    expect(after.get(ids.vertex!)?.vertex_key_config?.auth_credentials).toEqual({ kind: 'value', value: secret.vertexCredentials });
    expect(after.get(ids.fromEnv!)?.value).toEqual({ kind: 'env', name: 'TG_SECRET_FROM_ENV' });
    // Listing order is not part of the contract; compare key by key.
    const byId = (keys: Array<{ id: string }>) => new Map(keys.map((key) => [key.id, key]));
    const relisted = (await call({ method: 'GET', url: '/api/keys' })).body;
    expect(relisted.total).toBe(listed.total);
    expect(byId(relisted.keys)).toEqual(byId(listed.keys));
  });

  it('holds no plaintext secret in the database', async () => {
    const open = await storeText(store, tollgate.database);
    expect(open).toContain(canary);
    expect(open).toContain('tenant-id-shown-in-full-0002');
    expect(leaked(open)).toEqual([]);

    const encrypted = await tollgate.database.db.selectFrom('provider_keys').select(['id', 'secrets']).execute();
    expect(encrypted.length).toBe(tollgate.gateway.services.catalog.snapshot.keys.size);
    for (const row of encrypted) expect(row.secrets).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);

    if (store.kind === 'sqlite') {
      // Closing checkpoints the WAL into the main file: scan that state too.
      allLogs.push(...tollgate.logs);
      await tollgate.close();
      const closed = readFileSync(store.file!).toString('latin1');
      expect(closed).toContain(canary);
      expect(leaked(closed)).toEqual([]);
      tollgate = await startTestGateway(store, { environment });
    }
  });

  it('does not leak a secret when a write fails', async () => {
    const broken = await startTestGateway(store, { environment });
    await broken.database.close();
    const response = await broken.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'doomed', value: secret.openai } });
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.body).toMatchObject({ status_code: response.status, is_bifrost_error: true });
    expect(leaked(response.text)).toEqual([]);
    const update = await broken.request({ method: 'PUT', url: '/v1/models', body: { id: ids.openai, value: secret.seedValue } });
    expect(update.status).toBeGreaterThanOrEqual(500);
    expect(leaked(update.text)).toEqual([]);
    expect(broken.logs.some((line) => line.includes('"level":50'))).toBe(true);
    expect(leaked(broken.logs.join(''))).toEqual([]);
    await broken.gateway.close();
  });

  it('writes no secret to any log line or response', () => {
    allLogs.push(...tollgate.logs);
    expect(allLogs.some((line) => line.includes('"route":"/api/providers/:provider/keys/:key_id"'))).toBe(true);
    expect(allLogs.some((line) => line.includes('"route":"/v1/models"'))).toBe(true);
    expect(leaked(allLogs.join(''))).toEqual([]);
    expect(responses.length).toBeGreaterThan(20);
    for (const response of responses) expect(leaked(response)).toEqual([]);
  });

  /** Builds an app over a separately opened database, expecting the start to fail; returns the error and logs. */
  async function failedStart(prepare: (database: Database) => Promise<void>, box: SecretBox): Promise<{ error: unknown; logs: string }> {
    const database = await store.open();
    try {
      await prepare(database);
      return await startExpectingFailure(database, box);
    } finally {
      await database.close();
    }
  }

  it('refuses to start with another encryption key, naming no secret', async () => {
    const { error, logs } = await failedStart(async () => undefined, new SecretBox(Buffer.alloc(32, 7)));
    expect(error).toBeInstanceOf(Error);
    expect(leaked(`${String(error)}\n${(error as Error).stack}\n${logs}`)).toEqual([]);
  });

  it('refuses a secrets blob moved onto another key', async () => {
    let original = '';
    const { error } = await failedStart(async (database) => {
      const rows = await database.db.selectFrom('provider_keys').select(['id', 'secrets']).where('id', 'in', [ids.tiny!, ids.nine!]).execute();
      const tiny = rows.find((row) => row.id === ids.tiny)!;
      original = rows.find((row) => row.id === ids.nine)!.secrets;
      await database.db.updateTable('provider_keys').set({ secrets: tiny.secrets }).where('id', '=', ids.nine!).execute();
    }, new SecretBox(testEncryptionKey));
    expect(error).toBeInstanceOf(Error);
    await tollgate.database.db.updateTable('provider_keys').set({ secrets: original }).where('id', '=', ids.nine!).execute();
    await restart();
    expect(stored(ids.nine!).value).toEqual({ kind: 'value', value: secret.nine });
  });
});
