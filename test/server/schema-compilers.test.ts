/**
 * Every route's schema is zod's, so the app gives Fastify zod's compilers as its compiler factories: Fastify's default
 * JSON Schema compilers (ajv with its formats, fast-json-stringify's compiler) are then never loaded. Run in a test file
 * of its own: vitest gives each file a fresh process, whose module cache then shows what building the app loaded.
 */
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { sqliteStore } from '../support/stores.js';
import { startTestGateway } from '../support/test-gateway.js';

const defaultCompilers = /node_modules\/(ajv|ajv-formats|@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler)\//;

it("builds the app and validates with zod without loading Fastify's default JSON Schema compilers", async () => {
  const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((path) => defaultCompilers.test(path));
  const tollgate = await startTestGateway(sqliteStore());
  try {
    const refused = await tollgate.request({ method: 'POST', url: '/api/v1/api_keys', body: { name: 42 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.type).toBe('invalid_request_error');
    expect(loaded()).toEqual([]);
  } finally {
    await tollgate.close();
  }
});
