/**
 * Several gateway processes on one store learn each other's management changes through the stored revision (the
 * refresh timer runs `Gateway.refresh`). Here two gateways share one store, and the refresh is run by hand.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeKinds, type TestStore } from '../support/stores.js';
import { startTestGateway, type TestGateway } from '../support/test-gateway.js';

describe.each(storeKinds)('two gateways on one $name store', ({ create }) => {
  let store: TestStore;
  let first: TestGateway;
  let second: TestGateway;

  beforeEach(async () => {
    store = create();
    first = await startTestGateway(store);
    second = await startTestGateway(store);
  });
  afterEach(async () => {
    await first.close();
    await second.close();
    await store.dispose();
  });

  const keysOf = async (gateway: TestGateway): Promise<string[]> => {
    const listed = await gateway.request({ method: 'GET', url: '/api/providers/openai/keys' });
    expect(listed.status).toBe(200);
    return listed.body.keys.map((key: { name: string }) => key.name);
  };

  it('takes in another process’s change even when its own later change wrote the newest revision', async () => {

    expect((await first.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'made-by-first', value: 'sk-first-0001' } })).status).toBe(201);
    // The second process changes something else before its refresh has seen the first one's change.
    expect((await second.request({ method: 'PUT', url: '/api/providers/openai', body: { network_config: { max_retries: 1 } } })).status).toBe(200);
    expect(await keysOf(second)).toEqual([]);

    await second.gateway.refresh();
    expect(await keysOf(second)).toEqual(['made-by-first']);
    await first.gateway.refresh();
    const provider = await first.request({ method: 'GET', url: '/api/providers/openai' });
    expect(provider.body.network_config.max_retries).toBe(1);
  });

  it('does not reload when nothing changed since its last load', async () => {
    expect((await first.request({ method: 'POST', url: '/api/providers/openai/keys', body: { name: 'only', value: 'sk-only-0001' } })).status).toBe(201);
    await second.gateway.refresh();
    const loaded = second.gateway.services.catalog.snapshot;
    await second.gateway.refresh();
    expect(second.gateway.services.catalog.snapshot).toBe(loaded);
  });
});
