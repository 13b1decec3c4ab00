import { describe, expect, it } from 'vitest';
import { ConfigurationError, DEFAULT_REDIS_PREFIX, decodeEncryptionKey, loadConfig } from './environment.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', dataDir: './data', logLevel: 'info', workers: 1, diemUsd: 1, vcuUsd: 1 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.encryptionKey).toBeUndefined();
  });

  it('names every bad variable at once, without echoing secrets', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', TOLLGATE_ENCRYPTION_KEY: 'super-secret-but-short' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const message = (caught as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'TOLLGATE_ENCRYPTION_KEY']) expect(message).toContain(name);
    expect(message).not.toContain('super-secret-but-short');
  });

  it('requires an encryption key with PostgreSQL and Redis with several workers', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/test' })).toThrow(/TOLLGATE_ENCRYPTION_KEY/);
    expect(() => loadConfig({ TOLLGATE_WORKERS: '2' })).toThrow(/REDIS_URL/);
  });

  it('keeps the Redis key prefix counters used before the setting existed, unless one is chosen', () => {
    expect(DEFAULT_REDIS_PREFIX).toBe('tollgate:counters:');
    expect(loadConfig({}).redisKeyPrefix).toBe('tollgate:counters:');
    expect(loadConfig({ TOLLGATE_REDIS_PREFIX: '{tollgate-eu}:counters:' }).redisKeyPrefix).toBe('{tollgate-eu}:counters:');
  });

  it('refuses an empty Redis key prefix or one with whitespace, naming the variable and the value', () => {
    expect(() => loadConfig({ TOLLGATE_REDIS_PREFIX: '' })).toThrow(/TOLLGATE_REDIS_PREFIX: must not be empty/);
    expect(() => loadConfig({ TOLLGATE_REDIS_PREFIX: 'tollgate eu:' })).toThrow(/TOLLGATE_REDIS_PREFIX: must not contain whitespace.*"tollgate eu:"/);
    expect(() => loadConfig({ TOLLGATE_REDIS_PREFIX: 'tollgate:\n' })).toThrow(/TOLLGATE_REDIS_PREFIX/);
  });

  it('leases counter budgets by default and turns leasing off only with "off"', () => {
    expect(loadConfig({}).redisCounterLeases).toBe(true);
    expect(loadConfig({ REDIS_COUNTER_LEASES: 'on' }).redisCounterLeases).toBe(true);
    expect(loadConfig({ REDIS_COUNTER_LEASES: 'off' }).redisCounterLeases).toBe(false);
    expect(() => loadConfig({ REDIS_COUNTER_LEASES: 'no' })).toThrow(/REDIS_COUNTER_LEASES: must be "on" or "off", got "no"/);
  });

  it('reads a Redis command timeout in whole milliseconds, leaving the default to the counters when unset', () => {
    expect(loadConfig({}).redisCommandTimeoutMs).toBeUndefined();
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '' }).redisCommandTimeoutMs).toBeUndefined();
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '250' }).redisCommandTimeoutMs).toBe(250);
    for (const wrong of ['0', '1.5', '-3', 'soon', '600001']) {
      expect(() => loadConfig({ REDIS_COMMAND_TIMEOUT_MS: wrong })).toThrow(new RegExp(`REDIS_COMMAND_TIMEOUT_MS: must be a whole number of milliseconds.*"${wrong}"`));
    }
  });

  it.each([
    { variable: 'TOLLGATE_BUSY_POLL_MICROSECONDS', read: 'busyPollMicroseconds', unset: 0, given: 200, unit: 'microseconds', minimum: 0, maximum: 10_000 },
    { variable: 'TOLLGATE_SHUTDOWN_GRACE_SECONDS', read: 'shutdownGraceSeconds', unset: 20, given: 600, unit: 'seconds', minimum: 0, maximum: 86_400 },
  ] as const)('reads $variable in whole $unit, $unset unless set', ({ variable, read, unset, given, unit, minimum, maximum }) => {
    expect(loadConfig({})[read]).toBe(unset);
    expect(loadConfig({ [variable]: '' })[read]).toBe(unset);
    expect(loadConfig({ [variable]: '0' })[read]).toBe(0);
    expect(loadConfig({ [variable]: String(given) })[read]).toBe(given);
    for (const wrong of ['-1', '2.5', 'fast', String(maximum + 1)]) {
      expect(() => loadConfig({ [variable]: wrong })).toThrow(new RegExp(`${variable}: must be a whole number of ${unit} from ${minimum} to ${maximum}, got "${wrong}"`));
    }
  });

  it('reads the previous encryption keys of a rotation, comma-separated, without showing a bad one', () => {
    expect(loadConfig({}).previousEncryptionKeys).toEqual([]);
    const hex = 'ab'.repeat(32);
    const base64 = Buffer.alloc(32, 9).toString('base64');
    expect(loadConfig({ TOLLGATE_PREVIOUS_ENCRYPTION_KEYS: ` ${hex} , ${base64}` }).previousEncryptionKeys).toEqual([Buffer.from(hex, 'hex'), Buffer.alloc(32, 9)]);
    let message = '';
    try {
      loadConfig({ TOLLGATE_PREVIOUS_ENCRYPTION_KEYS: `${hex},not-a-key-SECRETISH` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/TOLLGATE_PREVIOUS_ENCRYPTION_KEYS: key 2 must be 32 bytes/);
    expect(message).not.toContain('SECRETISH');
    expect(message).not.toContain(hex);
  });

  it('reads the egress proxy from the usual variables, the lower-case spelling first, and none when neither proxy is set', () => {
    expect(loadConfig({}).upstreamProxy).toBeUndefined();
    expect(loadConfig({ NO_PROXY: 'localhost', HTTP_PROXY: '' }).upstreamProxy).toBeUndefined();
    // The instance metadata service (Azure's managed identities) is always reached directly: a proxy cannot reach it.
    expect(loadConfig({ HTTPS_PROXY: 'http://proxy.internal:3128' }).upstreamProxy).toEqual({ httpProxy: '', httpsProxy: 'http://proxy.internal:3128', noProxy: '169.254.169.254,metadata.google.internal' });
    expect(
      loadConfig({ HTTP_PROXY: 'http://upper:8080', http_proxy: 'http://lower:8080', NO_PROXY: 'upper.example', no_proxy: 'lower.example, .corp' }).upstreamProxy,
    ).toEqual({ httpProxy: 'http://lower:8080', httpsProxy: '', noProxy: 'lower.example, .corp,169.254.169.254,metadata.google.internal' });
  });

  it('refuses a proxy that is not an http(s) URL without showing the value, which may hold a password', () => {
    for (const wrong of ['proxy.internal:3128', 'socks5://user:hunter2@proxy:1080', 'http://', 'ftp://user:hunter2@proxy']) {
      let message = '';
      try {
        loadConfig({ HTTPS_PROXY: wrong });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/HTTPS_PROXY: must be an http:\/\/ or https:\/\/ proxy URL/);
      expect(message).not.toContain('hunter2');
    }
  });

  it('reads the number of workers as a whole number from 1 to 256', () => {
    expect(loadConfig({ TOLLGATE_WORKERS: '1' }).workers).toBe(1);
    for (const wrong of ['0', '1.5', 'many', '257']) {
      expect(() => loadConfig({ TOLLGATE_WORKERS: wrong })).toThrow(new RegExp(`TOLLGATE_WORKERS: must be a whole number from 1 to 256, got "${wrong}"`));
    }
  });

  it('decodes hex and base64 encryption keys of 32 bytes only', () => {
    expect(decodeEncryptionKey('ab'.repeat(32))?.length).toBe(32);
    expect(decodeEncryptionKey(Buffer.alloc(32, 7).toString('base64'))?.length).toBe(32);
    expect(decodeEncryptionKey(Buffer.alloc(16).toString('base64'))).toBeUndefined();
    expect(decodeEncryptionKey('not a key!')).toBeUndefined();
  });
});
