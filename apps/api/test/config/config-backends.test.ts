import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

// BLOB_STORE / S3_*, KEK_PROVIDER and the production refusals for a key store or an
// object store reached without authentication or TLS.

const PRODUCTION = {
  NODE_ENV: 'production',
  MASTER_KEY: '5f0c3a9e7d12b84c6e0f9a3d2b71c58e4a6d0f3b9c2e7a15d8f46b0c3e9a2d71',
  JWT_SECRET: 'q8Zt3vN1xK7pR2mW9yB4cL6hF0jD5sGa',
  AUDIT_SIGNING_KEY: '3c9f07d2a85e41b6f09c7d3e2a1b58f4c06e9d7a2b3f81e5d4c7a09b6e2f13d8',
};
const S3 = { BLOB_STORE: 's3', S3_BUCKET: 'sfe-blobs', S3_ENDPOINT: 'https://minio.internal:9000', S3_FORCE_PATH_STYLE: 'true' };

describe('configuration: backends', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sfe-config-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, ...env }, dir);
  const refusal = (env: Record<string, string>): string => {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('keeps blobs in DATA_DIR by default and selects S3 with its bucket, region, endpoint, path style and credentials', () => {
    expect(load({}).blobStore).toEqual({ kind: 'fs' });
    expect(load({ ...S3, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-value-1234', S3_REGION: 'eu-central-1' }).blobStore).toEqual({
      kind: 's3',
      bucket: 'sfe-blobs',
      region: 'eu-central-1',
      endpoint: 'https://minio.internal:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-value-1234' },
    });
    // No keys: the SDK's chain (instance role, profile) finds them; AWS's endpoint by default.
    expect(load({ BLOB_STORE: 's3', S3_BUCKET: 'sfe-blobs' }).blobStore).toEqual({ kind: 's3', bucket: 'sfe-blobs', region: 'us-east-1', forcePathStyle: false });
  });

  it('refuses a bad blob-store setting, naming the variable and never echoing a secret', () => {
    expect(refusal({ BLOB_STORE: 'nfs' })).toMatch(/BLOB_STORE/);
    expect(refusal({ BLOB_STORE: 's3' })).toMatch(/S3_BUCKET is required/);
    expect(refusal({ ...S3, S3_BUCKET: 'Bad_Bucket' })).toMatch(/S3_BUCKET/);
    expect(refusal({ ...S3, S3_ENDPOINT: 'ftp://x' })).toMatch(/S3_ENDPOINT must be an http\(s\) URL/);
    const withCredentials = refusal({ ...S3, S3_ENDPOINT: 'https://user:hunter2secret@minio:9000' });
    expect(withCredentials).toMatch(/must not carry credentials/);
    expect(withCredentials).not.toContain('hunter2secret');
    expect(refusal({ ...S3, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toMatch(/set together/);
    expect(refusal({ ...S3, S3_FORCE_PATH_STYLE: 'yes' })).toMatch(/S3_FORCE_PATH_STYLE/);
  });

  it('production refuses a plain http:// S3 endpoint unless S3_ALLOW_HTTP=true; development allows it', () => {
    const plain = { ...S3, S3_ENDPOINT: 'http://minio:9000' };
    expect(refusal({ ...PRODUCTION, ...plain })).toMatch(/S3_ENDPOINT is plain http:\/\/ in production.*S3_ALLOW_HTTP=true/);
    expect(load({ ...PRODUCTION, ...plain, S3_ALLOW_HTTP: 'true' }).blobStore).toMatchObject({ endpoint: 'http://minio:9000' });
    expect(load(plain).blobStore).toMatchObject({ endpoint: 'http://minio:9000' });
    expect(load({ ...PRODUCTION, ...S3 }).blobStore).toMatchObject({ endpoint: 'https://minio.internal:9000' });
  });

  it('production refuses a MONGODB_URI without credentials unless MONGODB_ALLOW_UNAUTHENTICATED=true', () => {
    for (const uri of ['mongodb://mongo:27017/sfe', 'mongodb://a:1,b:2/sfe?replicaSet=rs0', 'mongodb+srv://cluster.example.net/sfe']) {
      expect(refusal({ ...PRODUCTION, MONGODB_URI: uri })).toMatch(/MONGODB_URI has no credentials in production/);
      expect(load({ ...PRODUCTION, MONGODB_URI: uri, MONGODB_ALLOW_UNAUTHENTICATED: 'true' }).mongodbUri).toBe(uri);
      expect(load({ MONGODB_URI: uri }).mongodbUri).toBe(uri);
    }
    const secret = 'Zr8q2LxW0pVb';
    expect(refusal({ ...PRODUCTION, MONGODB_URI: 'mongodb://mongo:27017/sfe' })).not.toContain(secret);
    for (const uri of [
      `mongodb://sfe-api:${secret}@mongo:27017/sfe_keys?authSource=sfe_keys`,
      `mongodb+srv://sfe-api:${secret}@cluster.example.net/sfe`,
      'mongodb://mongo:27017/sfe?tls=true&authMechanism=MONGODB-X509',
    ]) {
      expect(load({ ...PRODUCTION, MONGODB_URI: uri }).mongodbUri).toBe(uri);
    }
  });

  it('KEK_PROVIDER=file reads an owner-only key file (and previous keys) and refuses a group- or world-readable one', async () => {
    const active = randomBytes(32).toString('hex');
    const previous = randomBytes(32).toString('hex');
    const file = path.join(dir, 'master.key');
    const previousFile = path.join(dir, 'previous.keys');
    await writeFile(file, `${active}\n`, { mode: 0o600 });
    await writeFile(previousFile, `${previous}\n`, { mode: 0o400 });
    const config = load({ ...PRODUCTION, MASTER_KEY: '', KEK_PROVIDER: 'file', MASTER_KEY_FILE: file, MASTER_KEY_PREVIOUS_FILE: previousFile });
    expect(config.kek).toEqual({ provider: 'file', file, previousFile });
    expect(config.masterKey).toBe(active);
    expect(config.masterKeyPrevious).toEqual([previous]);

    for (const mode of [0o640, 0o604, 0o644]) {
      await chmod(file, mode);
      const message = refusal({ ...PRODUCTION, MASTER_KEY: '', KEK_PROVIDER: 'file', MASTER_KEY_FILE: file });
      expect(message).toMatch(/MASTER_KEY_FILE is readable by group or others/);
      expect(message).not.toContain(active);
    }
    await chmod(file, 0o600);
    expect(refusal({ ...PRODUCTION, KEK_PROVIDER: 'file', MASTER_KEY_FILE: file })).toMatch(/exclude each other/);
    expect(refusal({ KEK_PROVIDER: 'file' })).toMatch(/MASTER_KEY_FILE is required/);
    expect(refusal({ KEK_PROVIDER: 'file', MASTER_KEY_FILE: path.join(dir, 'missing') })).toMatch(/cannot be read \(ENOENT\)/);
    await writeFile(file, 'not a key', { mode: 0o600 });
    const bad = refusal({ KEK_PROVIDER: 'file', MASTER_KEY_FILE: file });
    expect(bad).toMatch(/MASTER_KEY_FILE must hold exactly 64 hexadecimal characters/);
    expect(bad).not.toContain('not a key');
  });

  it('KEK_PROVIDER=pkcs11 needs the module, token, PIN and key labels, and no MASTER_KEY', async () => {
    const pkcs11 = {
      ...PRODUCTION,
      MASTER_KEY: '',
      KEK_PROVIDER: 'pkcs11',
      PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      PKCS11_TOKEN_LABEL: 'sfe',
      PKCS11_PIN: '123456',
      PKCS11_KEY_LABEL: 'kek-2026b',
      PKCS11_KEY_LABELS_PREVIOUS: 'kek-2026a',
    };
    const config = load(pkcs11);
    expect(config.kek).toEqual({
      provider: 'pkcs11',
      module: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'sfe',
      pin: '123456',
      keyLabel: 'kek-2026b',
      previousKeyLabels: ['kek-2026a'],
    });
    expect(config.masterKey).toBe('');
    expect(refusal({ ...pkcs11, MASTER_KEY: PRODUCTION.MASTER_KEY })).toMatch(/never leaves the HSM/);
    expect(refusal({ ...pkcs11, PKCS11_MODULE: 'libsofthsm2.so' })).toMatch(/PKCS11_MODULE must be the absolute path/);
    expect(refusal({ ...pkcs11, PKCS11_PIN: '' })).toMatch(/PKCS11_PIN/);
    expect(refusal({ ...pkcs11, PKCS11_KEY_LABEL: 'bad label' })).toMatch(/PKCS11_KEY_LABEL/);
    expect(refusal({ ...pkcs11, PKCS11_KEY_LABELS_PREVIOUS: 'kek-2026b' })).toMatch(/one label twice/);
    expect(refusal({ KEK_PROVIDER: 'kms' })).toMatch(/KEK_PROVIDER must be one of env, file, pkcs11/);
    const pinFile = path.join(dir, 'pin');
    await writeFile(pinFile, '654321\n', { mode: 0o644 });
    expect(refusal({ ...pkcs11, PKCS11_PIN: '', PKCS11_PIN_FILE: pinFile })).toMatch(/PKCS11_PIN_FILE is readable by group or others/);
    await chmod(pinFile, 0o600);
    expect(load({ ...pkcs11, PKCS11_PIN: '', PKCS11_PIN_FILE: pinFile }).kek).toMatchObject({ pin: '654321' });
  });
});
