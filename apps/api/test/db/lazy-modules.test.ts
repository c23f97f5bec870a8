import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_META } from '../../scripts/build.mjs';
import { describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/app.ts';
import { REPO_ROOT, startServer } from '../helpers/server-process.ts';

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
    // The server is built (server-build.ts): a file of dist/ stands for the sources in it.
    const meta = JSON.parse(await readFile(BUILD_META, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const sourcesOf = new Map(Object.entries(meta.outputs).map(([output, { inputs }]) => [path.resolve(REPO_ROOT, output), Object.keys(inputs)]));
    const urls = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean);
    const loaded = urls.flatMap((url) => [url, ...(url.startsWith('file:') ? (sourcesOf.get(fileURLToPath(url))?.map((input) => `/${input}`) ?? []) : [])]);
    // The server ran from the bundle, and its sources are seen through it.
    expect(urls.some((url) => url.endsWith('/apps/api/dist/server.mjs'))).toBe(true);
    expect(loaded.some((url) => url.includes('/src/modules/files/files.service.ts'))).toBe(true);
    // The hook saw the process at work (so an empty list cannot pass for a lean one).
    expect(loaded.some((url) => url.includes('/@prisma/adapter-better-sqlite3/'))).toBe(true);
    expect(loaded.some((url) => url.includes('/fastify/'))).toBe(true);
    for (const part of NEVER_ON_DEFAULTS) expect(loaded.filter((url) => url.includes(part)), part).toEqual([]);
  });
});
