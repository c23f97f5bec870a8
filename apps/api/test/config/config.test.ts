import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { buildTestApp } from '../helpers/app.ts';

const KEY = '5f0c3a9e7d12b84c6e0f9a3d2b71c58e4a6d0f3b9c2e7a15d8f46b0c3e9a2d71';
const SECRET = 'q8Zt3vN1xK7pR2mW9yB4cL6hF0jD5sGa';
const AUDIT_KEY = 'c41e9b07d2a85f3e6b10d94a7c2f58e3b6a09d17f4c82e5ba3d6f09c1e7b4a28';

describe('configuration', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sfe-config-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, ...env }, dir);
  const errorOf = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (error) {
      return error;
    }
    throw new Error('expected a ConfigError');
  };

  it('defaults to the embedded setup and generates development secrets once, mode 0600, with a warning', async () => {
    const first = load({});
    expect(first).toMatchObject({ host: '127.0.0.1', port: 3000, dataDir: dir, mongodbUri: undefined, env: 'development' });
    expect(first.databaseUrl).toBe(`file:${path.join(dir, 'sfe.db')}`);
    expect(first.masterKey).toMatch(/^[0-9a-f]{64}$/);
    expect(first.warnings.join('\n')).toMatch(/GENERATED a development value/);
    const keyFile = path.join(dir, 'dev-master.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(first.masterKey);
    const second = load({});
    expect(second.masterKey).toBe(first.masterKey);
    expect(second.jwtSecret).toBe(first.jwtSecret);
  });

  it('refuses to start in production without a master key or JWT secret, naming the variable', () => {
    const noKey = errorOf({ NODE_ENV: 'production', JWT_SECRET: SECRET });
    expect(noKey).toBeInstanceOf(ConfigError);
    expect((noKey as Error).message).toMatch(/^MASTER_KEY is required in production: 64 hexadecimal characters/);
    const noSecret = errorOf({ NODE_ENV: 'production', MASTER_KEY: KEY });
    expect((noSecret as Error).message).toMatch(/^JWT_SECRET is required in production/);
    const noAuditKey = errorOf({ NODE_ENV: 'production', MASTER_KEY: KEY, JWT_SECRET: SECRET });
    expect((noAuditKey as Error).message).toMatch(/^AUDIT_SIGNING_KEY is required in production: 64 hexadecimal characters/);
    expect(load({ NODE_ENV: 'production', MASTER_KEY: KEY, JWT_SECRET: SECRET, AUDIT_SIGNING_KEY: AUDIT_KEY }).warnings).toEqual([]);
  });

  it('validates the audit key, the webhook pair and the alert and retention numbers', () => {
    expect((errorOf({ AUDIT_SIGNING_KEY: 'abc' }) as Error).message).toMatch(/^AUDIT_SIGNING_KEY must be exactly 64 hexadecimal/);
    expect((errorOf({ ALERT_WEBHOOK_URL: 'https://hooks.example/x' }) as Error).message).toMatch(/set together/);
    expect((errorOf({ ALERT_WEBHOOK_URL: 'https://u:p@hooks.example/x', ALERT_WEBHOOK_SECRET: SECRET }) as Error).message).toMatch(/must not carry credentials/);
    expect((errorOf({ ALERT_WEBHOOK_URL: 'ftp://hooks.example/x', ALERT_WEBHOOK_SECRET: SECRET }) as Error).message).toMatch(/http\(s\) URL/);
    expect((errorOf({ ALERT_MASS_DOWNLOAD_COUNT: '0' }) as Error).message).toMatch(/^ALERT_MASS_DOWNLOAD_COUNT must be a whole number/);
    const config = load({ AUDIT_SIGNING_KEY: AUDIT_KEY, RETENTION_PURGE_INTERVAL_MINUTES: '0' });
    expect(config.auditSigningKey).toBe(AUDIT_KEY);
    expect(config.retention).toMatchObject({ auditDays: 2555, purgeIntervalMinutes: 0 });
    expect(config.alerts.failedLoginsPerAccount).toBe(5);
    expect(config.alertWebhook).toBeUndefined();
  });

  it('rejects malformed or weak values with the expected form and without echoing them', () => {
    for (const [env, pattern] of [
      [{ MASTER_KEY: 'abc' }, /MASTER_KEY must be exactly 64 hexadecimal characters/],
      [{ MASTER_KEY: 'g'.repeat(64) }, /MASTER_KEY must be exactly 64/],
      [{ MASTER_KEY: '0'.repeat(64) }, /MASTER_KEY is not random/],
      [{ JWT_SECRET: 'short-secret' }, /JWT_SECRET must be at least 32 characters/],
      [{ PORT: '70000' }, /PORT must be a whole number between 0 and 65535/],
      [{ PORT: '3e3' }, /PORT must be a whole number/],
      [{ MAX_UPLOAD_BYTES: '-1' }, /MAX_UPLOAD_BYTES must be a whole number/],
      [{ ALLOW_LEGACY_CIPHERS: 'yes' }, /ALLOW_LEGACY_CIPHERS must be "true" or "false"/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
      [{ MONGODB_URI: 'http://x' }, /MONGODB_URI must start with mongodb:\/\//],
      [{ MASTER_KEY_PREVIOUS: `${KEY},nope` }, /MASTER_KEY_PREVIOUS must be a comma-separated list/],
      [{ NODE_ENV: 'staging' }, /NODE_ENV must be one of/],
    ] as const) {
      const error = errorOf(env);
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(pattern);
      for (const value of Object.values(env)) if (value.length > 8) expect((error as Error).message).not.toContain(value);
    }
  });

  it('refuses a corrupted development key file instead of silently replacing it', async () => {
    await writeFile(path.join(dir, 'dev-master.key'), 'not a key\n');
    expect((errorOf({}) as Error).message).toMatch(/dev-master.key does not hold a valid MASTER_KEY/);
  });

  it('reads the previous KEKs, the legacy switch and the proxy setting', () => {
    const config = load({ MASTER_KEY: KEY, MASTER_KEY_PREVIOUS: ` ${'c4'.repeat(32)} , ${'D5'.repeat(32)}`, ALLOW_LEGACY_CIPHERS: 'true', TRUST_PROXY: 'true' });
    expect(config.masterKeyPrevious).toEqual(['c4'.repeat(32), 'd5'.repeat(32)]);
    expect(config.allowLegacyCiphers).toBe(true);
    expect(config.trustProxy).toBe(true);
  });
});

describe('CORS', () => {
  it('answers preflights only for the configured origins', async () => {
    const t = await buildTestApp({ env: { CORS_ORIGIN: 'https://files.example.com, https://other.example.com' } });
    try {
      const preflight = (origin: string) =>
        t.app.inject({
          method: 'OPTIONS',
          url: '/api/v1/files',
          headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
        });
      const allowed = await preflight('https://files.example.com');
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://files.example.com');
      expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');
      const refused = await preflight('https://evil.example.net');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.cleanup();
    }
  });
});
