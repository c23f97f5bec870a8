import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '../../src/db/client.ts';
import { buildTestApp, makeDataDir, type TestApp } from '../helpers/app.ts';
import { sfe } from '../helpers/cli.ts';
import { testDatabaseUrl } from '../helpers/database.ts';
import { downloadRaw, grantedPair, loginAs, PASSWORD } from '../helpers/fixtures.ts';

/**
 * `sfe db copy`: an installation on its SQLite file moves to PostgreSQL, and the server
 * started on the copy serves the same users, grants and files with the same audit chain.
 */
describe('sfe db copy from SQLite to PostgreSQL', () => {
  let dataDir: string;
  let sqliteUrl: string;
  let source: TestApp;
  let pair: Awaited<ReturnType<typeof grantedPair>>;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    sqliteUrl = `file:${path.join(dataDir, 'sfe.db')}`;
    source = await buildTestApp({ dataDir, env: { DATABASE_URL: sqliteUrl } });
    pair = await grantedPair(source.app, { data: Buffer.from('copied across engines') });
    // A second file and a few more rows in other tables (refresh tokens, rate limits, audit).
    await grantedPair(source.app, { org: pair.org });
    await source.close();
  });
  afterAll(async () => {
    await source.cleanup();
  });

  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: sqliteUrl });

  it('copies every table, verifies counts and the chain, and the copy serves the same data', { timeout: 240_000 }, async () => {
    const target = testDatabaseUrl(path.join(dataDir, 'target'));
    if (!target) throw new Error('the api-pg project provides the server');
    const run = await sfe(['db', 'copy', '--from', sqliteUrl, '--to', target, '--json', '--batch-size', '3'], env());
    expect(run.stderr).not.toContain('Error');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      tables: Array<{ table: string; source: number; target: number }>;
      countsMatch: boolean;
      rows: number;
      auditChain: { ok: boolean; checked: number; headsMatch: boolean };
    };
    expect(report.countsMatch).toBe(true);
    expect(report.auditChain).toMatchObject({ ok: true, headsMatch: true });
    const counts = Object.fromEntries(report.tables.map((t) => [t.table, t.target]));
    expect(counts).toMatchObject({ users: 3, encrypted_files: 2, access_requests: 2 });
    expect(counts.crypto_logs).toBeGreaterThan(5);
    expect(report.auditChain.checked).toBe(counts.crypto_logs);
    // The URL printed never carries a password (there is none here, but the shape is checked).
    expect(run.stdout).not.toMatch(/:[^@/]+@127/);

    // The copy is a working installation: same keys and blobs in DATA_DIR, database on PostgreSQL.
    const copy = await buildTestApp({ dataDir, env: { DATABASE_URL: target } });
    try {
      const con = await loginAs(copy.app, pair.con.username, PASSWORD);
      const download = await downloadRaw(copy.app, con, pair.request.id, PASSWORD);
      expect(download.statusCode).toBe(200);
      expect(download.rawPayload.toString()).toBe('copied across engines');
    } finally {
      await copy.close();
    }
    // New audit records appended on PostgreSQL continue the copied chain (the sequence moved past the copied rows).
    const verify = await sfe(['audit', 'verify', '--json'], { DATA_DIR: dataDir, DATABASE_URL: target });
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

    // Run again onto the now non-empty database: refused, nothing written.
    const prisma = createPrismaClient(target);
    const before = await prisma.cryptoLog.count();
    const again = await sfe(['db', 'copy', '--from', sqliteUrl, '--to', target], env());
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('not empty');
    expect(await prisma.cryptoLog.count()).toBe(before);
    await prisma.$disconnect();
  });

  it('exits 1 when the source chain does not verify, and 2 on a URL that is not a database', { timeout: 120_000 }, async () => {
    const prisma = createPrismaClient(sqliteUrl);
    const record = await prisma.cryptoLog.findFirstOrThrow({ orderBy: { seq: 'asc' }, skip: 2 });
    await prisma.cryptoLog.update({ where: { seq: record.seq }, data: { details: '{"edited":true}' } });
    await prisma.$disconnect();

    const target = testDatabaseUrl(path.join(dataDir, 'target-broken'));
    if (!target) throw new Error('the api-pg project provides the server');
    const run = await sfe(['db', 'copy', '--from', sqliteUrl, '--to', target, '--json'], env());
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ countsMatch: true, auditChain: { ok: false, firstBrokenId: record.id } });

    const bad = await sfe(['db', 'copy', '--from', sqliteUrl, '--to', 'mysql://x/y'], env());
    expect(bad.code).toBe(2);
  });
});
