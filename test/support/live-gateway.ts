import type { AddressInfo } from 'node:net';
import { sqliteStore, type TestStore } from './stores.js';
import { startTestGateway, testAdminKey, type TestGateway } from './test-gateway.js';
import type { AppDependencies } from '../../src/server/create-app.js';

/** A gateway listening on a loopback port, for clients (official SDKs) that need a real URL. */
export interface LiveGateway extends TestGateway {
  url: string;
  store: TestStore;
  /** Creates a provider key through the management API and returns its id. */
  addKey(provider: string, body: Record<string, unknown>): Promise<string>;
  /** Changes a provider's settings through the management API. */
  configureProvider(provider: string, body: Record<string, unknown>): Promise<void>;
  dispose(): Promise<void>;
}

export async function startLiveGateway(
  overrides: Partial<AppDependencies> & { environment?: Record<string, string | undefined>; store?: TestStore } = {},
): Promise<LiveGateway> {
  const store = overrides.store ?? sqliteStore();
  const tollgate = await startTestGateway(store, overrides);
  await tollgate.gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (tollgate.gateway.app.server.address() as AddressInfo).port;
  return {
    ...tollgate,
    url: `http://127.0.0.1:${port}`,
    store,
    async addKey(provider, body) {
      const response = await tollgate.request({ method: 'POST', url: `/api/providers/${provider}/keys`, body });
      if (response.status !== 201) throw new Error(`adding a key failed: ${response.status} ${response.text}`);
      return response.body.id as string;
    },
    async configureProvider(provider, body) {
      const response = await tollgate.request({ method: 'PUT', url: `/api/providers/${provider}`, body });
      if (response.status !== 200) throw new Error(`configuring ${provider} failed: ${response.status} ${response.text}`);
    },
    async dispose() {
      await tollgate.close();
      await store.dispose();
    },
  };
}

export { testAdminKey };
