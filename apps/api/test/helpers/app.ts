import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { ContainerOverrides } from '../../src/container.ts';
import { databaseEnv } from './database.ts';

/** Work factors small enough for a test suite; the real defaults are covered by @sfe/crypto's tests. */
export const TEST_KDF = { pbkdf2Iterations: 10_000, scrypt: { N: 2 ** 10, r: 8, p: 1 } } as const;

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dataDir: string;
  /** Closes the app; the data dir stays until cleanup() so a test can restart on it. */
  close(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'sfe-test-'));
}

/**
 * A fresh app on a fresh DATA_DIR (own SQLite file, or own PostgreSQL database in the
 * api-pg project: see database.ts; embedded key store, generated dev keys).
 */
export async function buildTestApp(
  options: { env?: Record<string, string>; dataDir?: string; config?: Partial<Config>; overrides?: ContainerOverrides } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const config: Config = {
    // Second factors are not required here (tests sign admins in with a password);
    // test/mfa covers the default.
    ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, MFA_REQUIRED_ROLES: '', ...databaseEnv(dataDir), ...options.env }),
    kdf: TEST_KDF,
    ...options.config,
  };
  const app = await buildApp(config, options.overrides ? { overrides: options.overrides } : {});
  await app.ready();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  return {
    app,
    config,
    dataDir,
    close,
    async cleanup() {
      await close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Session {
  id: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  headers: { authorization: string };
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

export async function register(
  app: FastifyInstance,
  role: 'organization' | 'consultant',
  options: { username?: string; password?: string; keySize?: 2048 | 4096 } = {},
): Promise<{ id: string; username: string; password: string }> {
  const username = options.username ?? uniqueName(role.slice(0, 3));
  const password = options.password ?? 'correct horse battery staple';
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { username, password, role, ...(options.keySize ? { keySize: options.keySize } : {}) },
  });
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  return { id: response.json().user.id, username, password };
}

/** Signs in; `remoteAddress` lets a suite spread logins over client IPs (the rate limit is per IP). */
export async function login(app: FastifyInstance, username: string, password: string, remoteAddress?: string): Promise<Session> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const body = response.json();
  return {
    id: body.user.id,
    username,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    headers: { authorization: `Bearer ${body.accessToken}` },
  };
}

export async function signUp(
  app: FastifyInstance,
  role: 'organization' | 'consultant',
  options: { username?: string; password?: string; keySize?: 2048 | 4096 } = {},
): Promise<Session> {
  const user = await register(app, role, options);
  return login(app, user.username, user.password);
}

/** A multipart body built in memory; for the small payloads of route tests only. */
export function multipartBody(
  parts: Array<{ name: string; value: string } | { name: string; filename: string; contentType?: string; data: Buffer }>,
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----sfe${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('data' in part) {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
        part.data,
        Buffer.from('\r\n'),
      );
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
