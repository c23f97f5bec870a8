import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  MASTER_KEY: '5f0c3a9e7d12b84c6e0f9a3d2b71c58e4a6d0f3b9c2e7a15d8f46b0c3e9a2d71',
  JWT_SECRET: 'q8Zt3vN1xK7pR2mW9yB4cL6hF0jD5sGa',
  AUDIT_SIGNING_KEY: '3c9f07d2a85e41b6f09c7d3e2a1b58f4c06e9d7a2b3f81e5d4c7a09b6e2f13d8',
};

describe('notification settings in the configuration', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sfe-config-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, ...env }, dir);
  const message = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('no SMTP_URL: no email; the public origin defaults to the served address', () => {
    const config = load({ PORT: '8443' });
    expect(config.notifications.smtpUrl).toBeUndefined();
    expect(config.notifications.publicUrl).toBe('http://127.0.0.1:8443');
    expect(load({ CORS_ORIGIN: 'https://app.example.org, https://other.example.org' }).notifications.publicUrl).toBe('https://app.example.org');
    expect(load({ PUBLIC_URL: 'https://sfe.example.org/' }).notifications.publicUrl).toBe('https://sfe.example.org');
  });

  it('refuses malformed values without echoing a secret', () => {
    expect(message({ SMTP_URL: 'http://mail.example.org' })).toMatch(/SMTP_URL must be an smtp/);
    const text = message({ SMTP_URL: 'ftp://user:s3cret-pass@mail.example.org' });
    expect(text).not.toContain('s3cret-pass');
    expect(message({ PUBLIC_URL: 'javascript:alert(1)' })).toMatch(/PUBLIC_URL must be an http/);
    expect(message({ PUBLIC_URL: 'https://user:pw@sfe.example.org' })).toMatch(/credentials/);
    expect(message({ PUBLIC_URL: 'https://sfe.example.org/#x' })).toMatch(/fragment/);
    expect(message({ EMAIL_FROM: 'no address here' })).toMatch(/EMAIL_FROM/);
    expect(message({ EMAIL_MAX_ATTEMPTS: '0' })).toMatch(/EMAIL_MAX_ATTEMPTS/);
  });

  it('in production, email needs the public origin', () => {
    expect(message({ ...PRODUCTION, SMTP_URL: 'smtps://u:p@mail.example.org:465' })).toMatch(/PUBLIC_URL is required/);
    const config = load({ ...PRODUCTION, SMTP_URL: 'smtps://u:p@mail.example.org:465', PUBLIC_URL: 'https://sfe.example.org' });
    expect(config.notifications).toMatchObject({ smtpUrl: 'smtps://u:p@mail.example.org:465', publicUrl: 'https://sfe.example.org', emailFrom: 'SFE <no-reply@sfe.example.org>' });
  });
});
