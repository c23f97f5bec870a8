import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/app.ts';
import { startServer } from '../helpers/server-process.ts';

/**
 * The serving process on the embedded defaults loads none of the optional backends'
 * code (each is imported where it is configured), nor Prisma's schema engine: what is
 * never loaded costs no memory. Checked over a start, a sign-up, a sign-in and a list.
 */
const NEVER_ON_DEFAULTS = [
  '/@prisma/schema-engine-wasm/',
  '/@prisma/adapter-pg/',
  '/generated/prisma-postgresql/',
  '/node_modules/pg/',
  '/mongoose/',
  '/@aws-sdk/',
  '/graphene-pk11/',
  '/nodemailer/',
  '/@simplewebauthn/server/',
];

describe('what the serving process loads', () => {
  it('on the embedded defaults: no PostgreSQL, MongoDB, S3, PKCS#11, SMTP or WebAuthn code, no schema engine', { timeout: 120_000 }, async () => {
    const dataDir = await makeDataDir();
    const logFile = path.join(dataDir, 'modules.log');
    const hook = pathToFileURL(path.join(import.meta.dirname, '../helpers/module-log.mjs')).href;
    const server = await startServer({ dataDir, env: { SFE_MODULE_LOG: logFile, LOG_LEVEL: 'warn' }, nodeArgs: ['--import', hook] });
    try {
      const api = `${server.url}/api/v1`;
      const post = (url: string, body: unknown, token?: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      const account = { username: 'lazyorg', password: 'a long enough password' };
      expect((await post(`${api}/auth/register`, { ...account, role: 'organization' })).status).toBe(201);
      const login = await post(`${api}/auth/login`, account);
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      expect((await fetch(`${api}/files`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
    } finally {
      await server.stop();
    }
    const loaded = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean);
    // The hook saw the process at work (so an empty list cannot pass for a lean one).
    expect(loaded.some((url) => url.includes('/@prisma/adapter-better-sqlite3/'))).toBe(true);
    expect(loaded.some((url) => url.includes('/fastify/'))).toBe(true);
    for (const part of NEVER_ON_DEFAULTS) expect(loaded.filter((url) => url.includes(part)), part).toEqual([]);
  });
});
