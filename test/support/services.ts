import net from 'node:net';

/**
 * PostgreSQL and Redis suites run against the real services on this machine. Outside CI a missing service
 * skips its suite with a printed notice; in CI (CI=true) or with TOLLGATE_REQUIRE_SERVICES=1 it fails the run.
 */
export const servicesRequired = process.env.CI === 'true' || process.env.TOLLGATE_REQUIRE_SERVICES === '1';

export const postgresUrl = process.env.TOLLGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.TOLLGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port: Number(parsed.port || defaultPort) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function check(name: string, url: string, port: number): Promise<boolean> {
  if (await reachable(url, port)) return true;
  if (servicesRequired) throw new Error(`${name} is required in CI but not reachable at ${new URL(url).host}`);
  console.warn(`[tollgate tests] ${name} not reachable at ${new URL(url).host}: skipping the ${name} suites`);
  return false;
}

export const postgresAvailable = await check('PostgreSQL', postgresUrl, 5432);
export const redisAvailable = await check('Redis', redisUrl, 6379);

/**
 * True when a suite that needs `service` must be skipped (the service is absent outside CI; in CI the import above
 * has already failed the run). Prints which suite is skipped and why, so that no suite is skipped silently.
 */
export function skipWithout(service: 'PostgreSQL' | 'Redis', suite: string): boolean {
  const available = service === 'Redis' ? redisAvailable : postgresAvailable;
  if (available) return false;
  const where = new URL(service === 'Redis' ? redisUrl : postgresUrl).host;
  console.warn(`[tollgate tests] skipping "${suite}": ${service} is not reachable at ${where} (CI fails instead of skipping)`);
  return true;
}
