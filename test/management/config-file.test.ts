import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config/config-file.js';
import { entryHash, reconcileConfigFile, type ReconcileReport } from '../../src/core/management/config-reconcile.js';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';

const stars = '*'.repeat(24);

/** The first YAML block under a README heading: by default the configuration file the README shows. */
function readmeExample(heading = '### Configuration file'): string {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf(`${heading}\n`);
  const example = start < 0 ? undefined : /```yaml\n([\s\S]*?)```/.exec(readme.slice(start))?.[1];
  if (example === undefined) throw new Error(`The README shows no configuration file under "${heading}".`);
  return example;
}

/** The file of the first start, in YAML. */
const firstYaml = `
# Tollgate configuration
providers:
  openai:
    keys:
      - name: primary
        value: sk-config-primary-0001
        models: [gpt-4o]
        weight: 2
      - id: config-secondary
        name: secondary
        value: env.CONFIG_OPENAI_KEY
  groq:
    network_config:
      max_retries: 5
    keys:
      - name: g
        value: gsk-config-groq-0001
  my-vllm:
    custom_provider_config:
      base_provider_type: vllm
    network_config:
      base_url: http://127.0.0.1:8000
    keys:
      - name: local
        vllm_key_config:
          url: http://127.0.0.1:8000
          model_name: llama
`;

/** The same configuration as JSON, with fields in another order: the same entries, so nothing changed. */
const sameJson = {
  providers: {
    'my-vllm': {
      keys: [{ vllm_key_config: { model_name: 'llama', url: 'http://127.0.0.1:8000' }, name: 'local' }],
      network_config: { base_url: 'http://127.0.0.1:8000' },
      custom_provider_config: { base_provider_type: 'vllm' },
    },
    groq: { keys: [{ value: 'gsk-config-groq-0001', name: 'g' }], network_config: { max_retries: 5 } },
    openai: {
      keys: [
        { weight: 2, models: ['gpt-4o'], value: 'sk-config-primary-0001', name: 'primary' },
        { value: 'env.CONFIG_OPENAI_KEY', name: 'secondary', id: 'config-secondary' },
      ],
    },
  },
};

describe('readConfigFile', () => {
  let directory: string;
  const write = (name: string, text: string) => {
    const file = path.join(directory, name);
    writeFileSync(file, text);
    return file;
  };
  beforeAll(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-config-read-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('reads YAML and JSON into the same configuration', () => {
    const yaml = readConfigFile(write('a.yaml', firstYaml));
    const json = readConfigFile(write('a.json', JSON.stringify(sameJson)));
    expect(json).toEqual(yaml);
    expect(yaml.providers.openai?.keys?.[1]).toEqual({ id: 'config-secondary', name: 'secondary', value: 'env.CONFIG_OPENAI_KEY' });
    expect(readConfigFile(write('empty.yaml', ''))).toEqual({ providers: {} });
  });

  it("reads the README's example file", () => {
    const config = readConfigFile(write('readme.yaml', readmeExample()));
    expect(Object.keys(config.providers)).toEqual(['openai', 'local-llm', 'azure']);
    expect(config.providers.azure!.keys![0]).toMatchObject({
      name: 'contoso',
      azure_key_config: {
        endpoint: 'https://contoso.services.ai.azure.com',
        api_version: 'v1',
        deployments: { 'gpt-4.1': 'gpt-41-prod', 'claude-sonnet-4-5': 'claude-sonnet-4-5' },
        tenant_id: 'env.AZURE_TENANT_ID',
        client_id: 'env.AZURE_CLIENT_ID',
        client_secret: 'env.AZURE_CLIENT_SECRET',
      },
    });
  });

  it('names the file and the problem, never a secret', () => {
    expect(() => readConfigFile(path.join(directory, 'missing.yaml'))).toThrow(/missing\.yaml: ENOENT/);
    expect(() => readConfigFile(write('bad.json', '{"providers": '))).toThrow(/bad\.json is not valid JSON/);
    expect(() => readConfigFile(write('bad.yaml', 'providers:\n  openai: [\n'))).toThrow(/bad\.yaml is not valid YAML/);

    const invalid = write('invalid.yaml', 'providers:\n  openai:\n    keys:\n      - name: k\n        value: sk-never-echoed-0123456789\n        weight: 0\n        api_key: sk-never-echoed-9876543210\n');
    let message = '';
    try {
      readConfigFile(invalid);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('invalid.yaml');
    expect(message).toContain('providers.openai.keys.0.weight');
    expect(message).toContain('api_key');
    expect(message).not.toContain('never-echoed');

    expect(() => readConfigFile(write('top.yaml', 'providers: {}\nkeys: []\n'))).toThrow(/keys/);
    expect(() => readConfigFile(write('name.yaml', 'providers:\n  Bad Name: {}\n'))).toThrow(/Bad Name/);
  });
});

describe.each(storeKinds)('configuration file reconcile ($name)', ({ create }) => {
  let store: TestStore;
  let tollgate: TestGateway;
  let directory: string;
  const environment: Record<string, string | undefined> = {};

  const write = (name: string, text: string) => {
    const file = path.join(directory, name);
    writeFileSync(file, text);
    return file;
  };
  /** What the gateway does at start with TOLLGATE_CONFIG set. */
  const reconcile = (file: string): Promise<ReconcileReport> =>
    reconcileConfigFile(readConfigFile(file), {
      providers: tollgate.gateway.services.providers,
      keys: tollgate.gateway.services.keys,
      clock: () => tollgate.clock.now,
    });
  async function restart(file: string): Promise<ReconcileReport> {
    await tollgate.close();
    tollgate = await startTestGateway(store, { environment });
    return reconcile(file);
  }
  const keyNamed = async (provider: string, name: string) => {
    const list = await tollgate.request({ method: 'GET', url: `/api/providers/${provider}/keys` });
    const matches = list.body.keys.filter((key: { name: string }) => key.name === name);
    expect(matches, `${provider}/${name}`).toHaveLength(1);
    return matches[0];
  };
  const stored = (id: string) => tollgate.gateway.services.catalog.snapshot.keys.get(id)!;

  beforeAll(async () => {
    store = create();
    directory = mkdtempSync(path.join(os.tmpdir(), 'tollgate-config-'));
    tollgate = await startTestGateway(store, { environment });
  });
  afterAll(async () => {
    await tollgate.close();
    await store.dispose();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates providers and keys at the first start, each key carrying its entry hash', async () => {
    const file = write('tollgate.yaml', firstYaml);
    const report = await reconcile(file);
    expect(report).toEqual({
      providersApplied: ['groq', 'my-vllm'],
      keysCreated: ['openai/primary', 'openai/secondary', 'groq/g', 'my-vllm/local'],
      keysReplaced: [],
      keysKept: [],
    });
    const parsed = readConfigFile(file);
    const primary = await keyNamed('openai', 'primary');
    expect(primary).toMatchObject({ value: { value: `sk-c${stars}0001`, env_var: '', from_env: false }, models: ['gpt-4o'], weight: 2, status: 'active' });
    expect(primary.config_hash).toBe(entryHash(parsed.providers.openai!.keys![0]));
    expect(stored(primary.id).value).toEqual({ kind: 'value', value: 'sk-config-primary-0001' });

    const secondary = (await tollgate.request({ method: 'GET', url: '/api/providers/openai/keys/config-secondary' })).body;
    expect(secondary.value).toEqual({ value: '', env_var: 'env.CONFIG_OPENAI_KEY', from_env: true });
    expect(secondary.status).toBe('error: environment variable CONFIG_OPENAI_KEY is not set');
    environment.CONFIG_OPENAI_KEY = 'sk-from-environment-0001';
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/openai/keys/config-secondary' })).body.status).toBe('active');

    expect((await tollgate.request({ method: 'GET', url: '/api/providers/groq' })).body.network_config.max_retries).toBe(5);
    const vllm = (await tollgate.request({ method: 'GET', url: '/api/providers/my-vllm' })).body;
    expect(vllm).toMatchObject({ built_in: false, custom_provider_config: { base_provider_type: 'vllm', is_key_less: false }, network_config: { base_url: 'http://127.0.0.1:8000' } });
    expect((await keyNamed('my-vllm', 'local')).vllm_key_config).toEqual({ url: { value: 'http://127.0.0.1:8000', env_var: '', from_env: false }, model_name: 'llama' });
  });

  it('keeps edits made through the API when the file is unchanged, even reformatted', async () => {
    const primary = await keyNamed('openai', 'primary');
    tollgate.clock.now += 60_000;
    const edited = await tollgate.request({
      method: 'PUT',
      url: `/api/providers/openai/keys/${primary.id}`,
      // A client sending back a forged config_hash must not break the link with the file.
      body: { ...primary, weight: 7, models: ['gpt-4o', 'o3'], config_hash: 'forged' },
    });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.config_hash).toBe(primary.config_hash);
    expect((await tollgate.request({ method: 'PUT', url: '/v1/models', body: { id: 'config-secondary', enabled: false } })).status).toBe(200);
    expect((await tollgate.request({ method: 'PUT', url: '/api/providers/groq', body: { network_config: { max_retries: 9 } } })).status).toBe(200);
    const before = (await tollgate.request({ method: 'GET', url: '/api/keys' })).body;

    for (const file of [write('tollgate.yaml', firstYaml), write('tollgate.json', JSON.stringify(sameJson, null, 2))]) {
      const report = await restart(file);
      expect({ ...report, keysKept: [...report.keysKept].sort() }).toEqual({
        providersApplied: [],
        keysCreated: [],
        keysReplaced: [],
        keysKept: ['groq/g', 'my-vllm/local', 'openai/primary', 'openai/secondary'],
      });
      const after = await keyNamed('openai', 'primary');
      expect(after).toMatchObject({ weight: 7, models: ['gpt-4o', 'o3'], config_hash: primary.config_hash, updated_at: '2026-11-23T12:01:00.000Z' });
      expect(stored(primary.id).value).toEqual({ kind: 'value', value: 'sk-config-primary-0001' });
      expect((await tollgate.request({ method: 'GET', url: '/api/providers/openai/keys/config-secondary' })).body.enabled).toBe(false);
      expect((await tollgate.request({ method: 'GET', url: '/api/providers/groq' })).body.network_config.max_retries).toBe(9);
      const listed = (await tollgate.request({ method: 'GET', url: '/api/keys' })).body;
      expect(listed.total).toBe(before.total);
    }
  });

  it('keeps a key renamed through the API when its entry is unchanged', async () => {
    const groq = await keyNamed('groq', 'g');
    const renamed = await tollgate.request({ method: 'PUT', url: `/api/providers/groq/keys/${groq.id}`, body: { ...groq, name: 'g-renamed' } });
    expect(renamed.status).toBe(200);
    const report = await restart(write('tollgate.yaml', firstYaml));
    expect(report.keysCreated).toEqual([]);
    expect(report.keysKept).toContain('groq/g');
    const list = (await tollgate.request({ method: 'GET', url: '/api/providers/groq/keys' })).body;
    expect(list.keys.map((key: { name: string }) => key.name)).toEqual(['g-renamed']);
  });

  it('replaces a key whose entry changed, adds new entries and leaves keys absent from the file alone', async () => {
    const primary = await keyNamed('openai', 'primary');
    const manual = await tollgate.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'manual', value: 'sk-manual-0123456789' } });
    expect(manual.status).toBe(201);
    const changedYaml = firstYaml
      .replace('value: sk-config-primary-0001\n        models: [gpt-4o]\n        weight: 2', 'value: sk-config-primary-0002\n        models: [gpt-4.1]\n        weight: 3')
      .replace('max_retries: 5', 'max_retries: 4')
      .replace('      - id: config-secondary', '      - name: added\n        value: sk-config-added-0001\n      - id: config-secondary');
    expect(changedYaml).not.toBe(firstYaml);
    const file = write('tollgate.yaml', changedYaml);
    tollgate.clock.now += 60_000;
    const report = await restart(file);
    expect(report).toEqual({
      providersApplied: ['groq'],
      keysCreated: ['openai/added'],
      keysReplaced: ['openai/primary'],
      keysKept: ['openai/secondary', 'groq/g', 'my-vllm/local'],
    });
    const replaced = await keyNamed('openai', 'primary');
    expect(replaced).toMatchObject({
      id: primary.id,
      value: { value: `sk-c${stars}0002`, env_var: '', from_env: false },
      models: ['gpt-4.1'],
      weight: 3,
      status: 'active',
      created_at: primary.created_at,
      updated_at: new Date(tollgate.clock.now).toISOString(),
    });
    expect(replaced.config_hash).toBe(entryHash(readConfigFile(file).providers.openai!.keys![0]));
    expect(replaced.config_hash).not.toBe(primary.config_hash);
    expect(stored(primary.id).value).toEqual({ kind: 'value', value: 'sk-config-primary-0002' });
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/groq' })).body.network_config.max_retries).toBe(4);
    expect((await keyNamed('openai', 'added')).config_hash).toBe(entryHash(readConfigFile(file).providers.openai!.keys![1]));
    expect((await keyNamed('openai', 'manual')).config_hash).toBe('');
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/openai/keys/config-secondary' })).body.enabled).toBe(false);

    // Started again with the changed file, nothing changes any more.
    const again = await restart(file);
    expect(again.keysReplaced).toEqual([]);
    expect(again.keysCreated).toEqual([]);
    expect(again.providersApplied).toEqual([]);
  });

  it('refuses entries that break the rules, naming the provider and key but no secret', async () => {
    const failure = async (yaml: string): Promise<Error> => {
      const outcome = await reconcile(write('broken.yaml', yaml)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(Error);
      return outcome as Error;
    };
    const unknown = await failure('providers:\n  nowhere:\n    keys:\n      - name: k\n        value: sk-never-echoed-0001\n');
    expect(unknown.message).toContain('nowhere');
    expect(unknown.message).not.toContain('never-echoed');

    const anonymous = await failure('providers:\n  openai:\n    keys:\n      - value: sk-never-echoed-0002\n');
    expect(anonymous.message).toContain('openai');
    expect(anonymous.message).not.toContain('never-echoed');

    const noValue = await failure('providers:\n  anthropic:\n    keys:\n      - name: empty-key\n        models: [claude]\n');
    expect(noValue.message).toContain('anthropic');
    expect(noValue.message).toContain('empty-key');
    expect(noValue.message).toContain('value');

    const redactedLooking = await failure(`providers:\n  anthropic:\n    keys:\n      - name: pasted\n        value: "sk-a${stars}0003"\n`);
    expect(redactedLooking.message).toContain('pasted');

    const wrongProvider = await failure('providers:\n  anthropic:\n    keys:\n      - id: config-secondary\n        name: moved\n        value: sk-never-echoed-0004\n');
    expect(wrongProvider.message).toContain('openai');
    expect(wrongProvider.message).not.toContain('never-echoed');

    for (const error of [unknown, anonymous, noValue, redactedLooking, wrongProvider]) expect(error.message).toMatch(/TOLLGATE_CONFIG/);
    expect((await tollgate.request({ method: 'GET', url: '/api/providers/anthropic/keys' })).body.total).toBe(0);
  });

  it("applies the README's keys without a secret, one for each cloud's host identity", async () => {
    const report = await reconcile(write('identities.yaml', readmeExample("### Keys without a secret: the host's cloud identity")));
    expect(report.keysCreated).toEqual(['azure/aks-workload', 'bedrock/instance-role', 'vertex/gke-workload']);
    // No credential at all: the host's default identity (the webhook's variables, else the managed identity).
    const workload = await keyNamed('azure', 'aks-workload');
    expect(workload.value).toEqual({ value: '', env_var: '', from_env: false });
    expect(workload.azure_key_config).toMatchObject({
      endpoint: { value: 'https://contoso.services.ai.azure.com', from_env: false },
      client_id: { value: '', env_var: '', from_env: false },
      client_secret: { value: '', env_var: '', from_env: false },
      tenant_id: { value: '', env_var: '', from_env: false },
    });
    expect((await keyNamed('bedrock', 'instance-role')).bedrock_key_config).toMatchObject({ region: { value: 'eu-central-1' } });
    expect((await keyNamed('vertex', 'gke-workload')).vertex_key_config).toMatchObject({ project_id: { value: 'acme-prod' }, region: { value: 'europe-west4' } });
  });

  it("applies the README's example file: the Azure key with Entra credentials read from the environment", async () => {
    const report = await reconcile(write('readme.yaml', readmeExample()));
    expect(report.keysCreated).toEqual(expect.arrayContaining(['azure/contoso', 'local-llm/local']));
    const azure = await keyNamed('azure', 'contoso');
    expect(azure.azure_key_config).toMatchObject({
      endpoint: { value: 'https://contoso.services.ai.azure.com', from_env: false },
      api_version: { value: 'v1', from_env: false },
      deployments: { 'gpt-4.1': 'gpt-41-prod', 'claude-sonnet-4-5': 'claude-sonnet-4-5' },
      client_secret: { value: '', env_var: 'env.AZURE_CLIENT_SECRET', from_env: true },
    });
  });
});
