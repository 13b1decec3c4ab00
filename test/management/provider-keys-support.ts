/** What the provider-keys API tests share: the expected shapes, the seed-002 error check and the API calls. */
import { expect } from 'vitest';
import type { TestGateway } from '../support/test-gateway.js';

export type Response = Awaited<ReturnType<TestGateway['request']>>;

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const empty = { value: '', env_var: '', from_env: false };
export const literal = (value: string) => ({ value, env_var: '', from_env: false });
export const reference = (name: string) => ({ value: '', env_var: `env.${name}`, from_env: true });
/** Seed 002's display rule, spelled out independently of the implementation. */
export const redacted = (secret: string) => literal(secret.length <= 8 ? '********' : `${secret.slice(0, 4)}************************${secret.slice(-4)}`);
export const noConfigs = {
  azure_key_config: null,
  vertex_key_config: null,
  bedrock_key_config: null,
  replicate_key_config: null,
  vllm_key_config: null,
  ollama_key_config: null,
  sgl_key_config: null,
};

/** Checks the seed-002 error object and, when given, its code and param. */
export function expectError(response: Response, status: number, expected: { code?: string; param?: string | null } = {}): void {
  expect(response.status, response.text).toBe(status);
  const body = response.body;
  expect(Object.keys(body).sort()).toEqual(['error', 'event_id', 'extra_fields', 'is_bifrost_error', 'status_code', 'type']);
  expect(body.status_code).toBe(status);
  expect(body.is_bifrost_error).toBe(true);
  expect(body.type).toBe(body.error.type);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'event_id', 'message', 'param', 'type']);
  expect(body.error.event_id).toBe(body.event_id);
  expect(response.headers['x-request-id']).toBe(body.event_id);
  expect(Object.keys(body.extra_fields).sort()).toEqual(['model_requested', 'provider', 'request_type']);
  if (expected.code !== undefined) expect(body.error.code).toBe(expected.code);
  if (expected.param !== undefined) expect(body.error.param).toBe(expected.param);
}

/** The key routes of one provider, called as the admin, and the catalog's record of a key. */
export function keyRoutes(gateway: () => TestGateway) {
  return {
    post: (provider: string, body: unknown) => gateway().request({ method: 'POST', url: `/api/providers/${provider}/keys`, body }),
    get: (provider: string, id: string) => gateway().request({ method: 'GET', url: `/api/providers/${provider}/keys/${id}` }),
    put: (provider: string, id: string, body: unknown) => gateway().request({ method: 'PUT', url: `/api/providers/${provider}/keys/${id}`, body }),
    remove: (provider: string, id: string) => gateway().request({ method: 'DELETE', url: `/api/providers/${provider}/keys/${id}` }),
    stored: (id: string) => gateway().gateway.services.catalog.snapshot.keys.get(id),
  };
}
