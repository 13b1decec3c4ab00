/**
 * The requests the malformed-management-bodies fuzz starts from: a valid body for every create and update route (keys
 * of each provider type, providers, API keys, pricing structures), valid report queries, and the odd path
 * parameters, JSON texts and content types it sends besides.
 */
import { isDeepStrictEqual } from 'node:util';
import type { QueryPart } from '../support/json-fuzz.js';
import { comparable, secret, type Answer } from './malformed-management-support.js';

/** A key body per provider type, each using that type's sub-configuration; `name` keeps keys apart. */
export const keyProfiles: Record<string, (name: string) => Record<string, unknown>> = {
  openai: (name) => ({
    name,
    value: secret(name),
    models: ['gpt-4o', 'gpt-4o-mini'],
    blacklisted_models: ['o1'],
    weight: 2,
    enabled: true,
    use_for_batch_api: false,
    description: 'fuzzed key',
    customPricingStructureId: 'witness',
  }),
  azure: (name) => ({
    name,
    value: secret(name),
    azure_key_config: {
      endpoint: 'https://contoso.openai.azure.com',
      deployments: { 'gpt-4o': 'gpt-4o-deployment' },
      api_version: '2024-10-21',
      client_id: 'client-id',
      client_secret: secret(`${name}-client`),
      tenant_id: 'tenant-id',
      scopes: ['https://cognitiveservices.azure.com/.default'],
      key2: secret(`${name}-key2`),
    },
  }),
  bedrock: (name) => ({
    name,
    bedrock_key_config: {
      access_key: secret(`${name}-access`),
      secret_key: secret(`${name}-secret`),
      session_token: secret(`${name}-session`),
      region: 'eu-west-1',
      arn: 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/fuzz',
      deployments: { claude: 'anthropic.claude-3-haiku-20240307-v1:0' },
      batch_s3_config: { buckets: [{ bucket_name: 'batch', prefix: 'in/', is_default: true }] },
    },
  }),
  vertex: (name) => ({
    name,
    vertex_key_config: {
      project_id: 'project',
      project_number: '1234567890',
      region: 'us-central1',
      auth_credentials: secret(`${name}-credentials`),
      deployments: {},
    },
  }),
  vllm: (name) => ({ name, value: 'env.TOLLGATE_FUZZ_VLLM_KEY', vllm_key_config: { url: { value: 'http://127.0.0.1:8000', env_var: '', from_env: false }, model_name: 'llama' } }),
  replicate: (name) => ({ name, value: { env_var: 'TOLLGATE_FUZZ_REPLICATE', from_env: true }, replicate_key_config: { deployments: { llama: 'owner/deployment' } } }),
};
const profileNames = Object.keys(keyProfiles);
export const updatedProfiles = ['openai', 'azure', 'bedrock', 'vertex'];
export const keyBody = (profile: string, name: string): Record<string, unknown> => keyProfiles[profile]!(name);

export const providerSettings = {
  network_config: {
    base_url: 'http://127.0.0.1:9/v1',
    extra_headers: { 'x-team': 'fuzz' },
    default_request_timeout_in_seconds: 30,
    max_retries: 1,
    retry_backoff_initial: 100,
    retry_backoff_max: 1000,
  },
  concurrency_and_buffer_size: { concurrency: 10, buffer_size: 20 },
};
export const customProvider = { custom_provider_config: { base_provider_type: 'openai', is_key_less: false } };

export const apiKeyFields = {
  description: 'fuzzed api key',
  consumptionLimit: { usd: 10, diem: 5, vcu: 3, tokens: 100_000, requests: 1_000 },
  limitPeriod: 'MONTH',
  expiresAt: '2027-01-01T00:00:00.000Z',
  models: ['openai/gpt-4o'],
  rateLimits: { rpm: 60, tpm: 100_000, maxConcurrent: 4 },
};

export const pricingFields = (name: string) => ({
  name,
  entries: [
    { model: 'gpt-4o', input_per_million: 2.5, output_per_million: 10, cached_input_per_million: 1.25 },
    { model: 'gpt-4o-*', input_per_million: 0.15, output_per_million: 0.6, cached_input_per_million: null },
    { model: '*', input_per_million: 1, output_per_million: 2 },
  ],
  created_at: null,
  updated_at: null,
});

/** A create or update route, a valid body for it, and where what it wrote is read back. */
export interface BodyRoute {
  name: string;
  method: 'POST' | 'PUT' | 'PATCH';
  url(iteration: number): string;
  body(iteration: number): Record<string, unknown>;
  /** The GET that answers the object written by a 2xx answer. */
  readUrl(answer: Answer, iteration: number): string;
  /** Whether the write's answer agrees with what the GET answers. */
  agrees(answer: Answer, read: Answer): boolean;
  /** The GET of the object an update changes: a refused update must leave it as it was. */
  targetUrl?(iteration: number): string;
}


const sameAsRead = (answer: Answer, read: Answer): boolean => isDeepStrictEqual(comparable(answer.body), comparable(read.body));

export const routes: BodyRoute[] = [
  {
    name: 'POST /api/providers',
    method: 'POST',
    url: () => '/api/providers',
    body: (iteration) => ({ provider: `fuzz-made-${iteration}`, ...customProvider, ...providerSettings }),
    readUrl: (answer) => `/api/providers/${answer.body.name}`,
    agrees: sameAsRead,
  },
  {
    name: 'PUT /api/providers/{provider}',
    method: 'PUT',
    url: (iteration) => (iteration % 3 === 0 ? '/api/providers/mistral' : '/api/providers/fuzz-target'),
    body: (iteration) =>
      iteration % 3 === 0
        ? { name: 'mistral', built_in: true, key_count: 0, created_at: null, updated_at: null, ...providerSettings }
        : { name: 'fuzz-target', provider: 'fuzz-target', built_in: false, ...customProvider, ...providerSettings },
    readUrl: (_answer, iteration) => (iteration % 3 === 0 ? '/api/providers/mistral' : '/api/providers/fuzz-target'),
    agrees: sameAsRead,
    targetUrl: (iteration) => (iteration % 3 === 0 ? '/api/providers/mistral' : '/api/providers/fuzz-target'),
  },
  {
    name: 'POST /api/providers/{provider}/keys',
    method: 'POST',
    url: (iteration) => `/api/providers/${profileNames[iteration % profileNames.length]}/keys`,
    body: (iteration) => keyBody(profileNames[iteration % profileNames.length]!, `fuzz-made-${iteration}`),
    readUrl: (answer, iteration) => `/api/providers/${profileNames[iteration % profileNames.length]}/keys/${encodeURIComponent(answer.body.id)}`,
    agrees: sameAsRead,
  },
  {
    name: 'PUT /api/providers/{provider}/keys/{key_id}',
    method: 'PUT',
    url: (iteration) => {
      const profile = updatedProfiles[iteration % updatedProfiles.length]!;
      return `/api/providers/${profile}/keys/fuzz-target-${profile}`;
    },
    body: (iteration) => {
      const profile = updatedProfiles[iteration % updatedProfiles.length]!;
      return { id: `fuzz-target-${profile}`, ...keyBody(profile, `fuzz-target-${profile}`) };
    },
    readUrl: (_answer, iteration) => {
      const profile = updatedProfiles[iteration % updatedProfiles.length]!;
      return `/api/providers/${profile}/keys/fuzz-target-${profile}`;
    },
    agrees: sameAsRead,
    targetUrl: (iteration) => {
      const profile = updatedProfiles[iteration % updatedProfiles.length]!;
      return `/api/providers/${profile}/keys/fuzz-target-${profile}`;
    },
  },
  {
    name: 'PUT /v1/models',
    method: 'PUT',
    url: () => '/v1/models',
    body: (iteration) => {
      const profile = updatedProfiles[iteration % 3]!;
      const meta =
        profile === 'azure'
          ? { key2: secret('meta-key2') }
          : profile === 'bedrock'
            ? { secretAccessKey: secret('meta-secret'), sessionToken: secret('meta-session') }
            : null;
      return {
        id: `fuzz-target-${profile}`,
        name: `fuzz-target-${profile}`,
        value: secret('models-route'),
        models: ['gpt-4o', 'model-b'],
        meta,
        enabled: true,
        customPricingStructureId: 'witness',
      };
    },
    readUrl: (_answer, iteration) => {
      const profile = updatedProfiles[iteration % 3]!;
      return `/api/providers/${profile}/keys/fuzz-target-${profile}`;
    },
    agrees: (answer, read) => {
      const data = answer.body.data;
      return (
        data.name === read.body.name &&
        data.enabled === read.body.enabled &&
        data.customPricingStructureId === read.body.customPricingStructureId &&
        data.updatedAt === read.body.updated_at &&
        isDeepStrictEqual(
          data.models.map((model: { id: string }) => model.id),
          read.body.models,
        )
      );
    },
    targetUrl: (iteration) => {
      const profile = updatedProfiles[iteration % 3]!;
      return `/api/providers/${profile}/keys/fuzz-target-${profile}`;
    },
  },
  {
    name: 'POST /api/v1/api_keys',
    method: 'POST',
    url: () => '/api/v1/api_keys',
    body: (iteration) => ({ apiKeyType: iteration % 2 === 0 ? 'INFERENCE' : 'ADMIN', ...apiKeyFields }),
    readUrl: (answer) => `/api/v1/api_keys/${answer.body.data.id}`,
    agrees: (answer, read) => {
      const { apiKey: _secret, ...view } = answer.body.data;
      return isDeepStrictEqual(view, read.body.data);
    },
  },
  {
    name: 'PATCH /api/v1/api_keys',
    method: 'PATCH',
    url: () => '/api/v1/api_keys',
    body: () => ({ id: fuzzTargets.apiKey, ...apiKeyFields, limitPeriod: 'LIFETIME' }),
    readUrl: () => `/api/v1/api_keys/${fuzzTargets.apiKey}`,
    agrees: (answer, read) => isDeepStrictEqual(answer.body.data, read.body.data),
    targetUrl: () => `/api/v1/api_keys/${fuzzTargets.apiKey}`,
  },
  {
    name: 'POST /api/pricing-structures',
    method: 'POST',
    url: () => '/api/pricing-structures',
    body: (iteration) => ({ id: `fuzz-made-${iteration}`, ...pricingFields(`fuzz made ${iteration}`) }),
    readUrl: (answer) => `/api/pricing-structures/${answer.body.id}`,
    agrees: sameAsRead,
  },
  {
    name: 'PUT /api/pricing-structures/{id}',
    method: 'PUT',
    url: () => '/api/pricing-structures/fuzz-target',
    body: () => ({ id: 'fuzz-target', ...pricingFields('fuzz target') }),
    readUrl: () => '/api/pricing-structures/fuzz-target',
    agrees: sameAsRead,
    targetUrl: () => '/api/pricing-structures/fuzz-target',
  },
];

/** The API key the PATCH route updates: set by each fuzz suite (one per store) before its tests run. */
export const fuzzTargets = { apiKey: '' };

export const logsQuery: QueryPart[] = [
  { name: 'api_key_id', value: 'some-key' },
  { name: 'provider', value: 'openai' },
  { name: 'model', value: 'gpt-4o' },
  { name: 'request_id', value: 'request-1' },
  { name: 'status', value: '200' },
  { name: 'from', value: '2026-11-01' },
  { name: 'to', value: '2026-11-24T00%3A00%3A00Z' },
  { name: 'limit', value: '10' },
  { name: 'offset', value: '0' },
];
export const usageQuery: QueryPart[] = [
  { name: 'group_by', value: 'model' },
  { name: 'bucket', value: 'day' },
  { name: 'from', value: '2026-11-01T00%3A00%3A00%2B02%3A00' },
  { name: 'to', value: '2026-11-24' },
  { name: 'api_key_id', value: 'some-key' },
  { name: 'provider', value: 'openai' },
  { name: 'model', value: 'gpt-4o' },
];

/** Path parameters a router, a decoder or a lookup may trip on. */
export const oddSegments = [
  'a'.repeat(499),
  'a'.repeat(501),
  '%2F',
  'a%2Fb',
  '..',
  '%2e%2e',
  '.',
  '%00',
  'a%00b',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%F0%9F%98%80',
  '%ED%A0%80',
  '%20',
  '+',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '*',
  '%2A',
  '%5C',
  '%3F%23',
  'x;y=z',
];

export const malformedJsonTexts = [
  '',
  ' ',
  '{',
  '}',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  'NaN',
  'undefined',
  '{}{}',
  '[]',
  'null',
  '"text"',
  '1e309',
  '-',
  '{"a":"\\x"}',
  '{"a":"\\ud800"}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '\u0000',
  `{"a":"${'x'.repeat(2_000_000)}"}`,
];

export const contentTypes = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/xml',
  '*/*',
  '',
  ';;',
  'application/json; charset=utf-16',
  'application/json;charset=ISO-8859-1',
  'Application/JSON',
  'application/jsonp',
  'application/vnd.api+json',
  'application/json, text/plain',
];

