import { describe, expect, it } from 'vitest';
import { RoutesInFlight } from './inference-call.js';

describe('RoutesInFlight', () => {
  it('is idle at once with no route in flight, and resolves its waiters when the last route leaves', async () => {
    const routes = new RoutesInFlight();
    await routes.idle();
    routes.enter();
    routes.enter();
    let idle = false;
    const waiting = routes.idle().then(() => (idle = true));
    routes.leave();
    await Promise.resolve();
    expect(idle).toBe(false);
    expect(routes.count).toBe(1);
    routes.leave();
    await waiting;
    expect(idle).toBe(true);
    expect(routes.count).toBe(0);
  });
});
