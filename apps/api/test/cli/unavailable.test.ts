import { rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, makeDataDir } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';

/** CLI.md: exit 4 when a dependency (the database, the key store) is unavailable, whichever. */
describe('sfe with a dependency down', () => {
  let dataDir: string;
  let closedPort: number;
  beforeAll(async () => {
    dataDir = await makeDataDir();
    closedPort = await freePort();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits 4 and names the database when PostgreSQL does not answer, never echoing the URL', { timeout: 60_000 }, async () => {
    const url = `postgresql://sfe:db-secret-never-shown@127.0.0.1:${closedPort}/sfe`;
    for (const args of [['user', 'list', '--json'], ['audit', 'verify'], ['kek', 'status', '--json']]) {
      const result = await sfe(args, { DATA_DIR: dataDir, DATABASE_URL: url });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(4);
      expect(result.stderr).toContain('database is unavailable');
      expect(result.stderr + result.stdout).not.toContain('db-secret-never-shown');
    }
  });
});

describe('the API with its database gone', () => {
  it('answers 503 SERVICE_UNAVAILABLE with Retry-After, as problem+json, not 500', { timeout: 60_000 }, async () => {
    const t = await buildTestApp({ env: { LOG_LEVEL: process.env.DEBUG_LOG ? 'error' : 'silent' } });
    const holder = new Database(path.join(t.dataDir, 'sfe.db'));
    try {
      // Another process holds the write lock past the busy timeout (a stuck migration, a backup tool).
      holder.exec('BEGIN EXCLUSIVE');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        remoteAddress: '192.0.2.200',
        payload: { username: 'while-locked', password: 'correct horse battery staple', role: 'organization' },
      });
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(response.body).not.toMatch(/SQLITE|sqlite|prisma/i);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      await t.cleanup();
    }
  });
});
