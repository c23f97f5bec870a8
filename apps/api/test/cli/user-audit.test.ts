import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErasureCertificate } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { sfe as runSfe } from '../helpers/cli.ts';
import { buildTestApp, makeDataDir, type TestApp } from '../helpers/app.ts';
import { openDb } from '../helpers/admin.ts';
import { downloadRaw, expectProblem, grantedPair, PASSWORD } from '../helpers/fixtures.ts';

describe('sfe user and sfe audit', () => {
  let dataDir: string;
  let t: TestApp;
  let prisma: PrismaClient;
  let pair: Awaited<ReturnType<typeof grantedPair>>;
  const sfe = async (...args: string[]) => {
    const result = await runSfe(args, { DATA_DIR: dataDir });
    return { ...result, code: result.code ?? 1 };
  };

  beforeAll(async () => {
    dataDir = await makeDataDir();
    t = await buildTestApp({ dataDir });
    prisma = openDb(t);
    pair = await grantedPair(t.app);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('lists users as JSON', async () => {
    const listed = await sfe('user', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const { users } = JSON.parse(listed.stdout) as { users: Array<{ username: string; hasPrivateKey: boolean; activeGrants: number }> };
    expect(users.find((u) => u.username === pair.con.username)).toMatchObject({ hasPrivateKey: true, activeGrants: 1 });
  });

  it('refuses an incident without confirmation, then runs it with --yes', async () => {
    expect((await sfe('user', 'incident', '--username', pair.con.username, '--json')).code).toBe(3);
    expect((await sfe('user', 'incident', '--username', 'nobody-at-all', '--yes')).code).toBe(3);
    const ran = await sfe('user', 'incident', '--username', pair.con.username, '--yes', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ disabled: true, grantsRevoked: 1, privateKeyDeleted: true, sessionsEnded: 1 });
    expectProblem(await downloadRaw(t.app, pair.con, pair.request.id, PASSWORD), 401);
    const enabled = await sfe('user', 'enable', '--username', pair.con.username, '--json');
    expect(JSON.parse(enabled.stdout)).toMatchObject({ status: 'active', hasPrivateKey: false });
  });

  it('erases with a certificate that verifies against the published key', async () => {
    const erased = await sfe('user', 'erase', '--username', pair.org.username, '--yes', '--json');
    expect(erased.code, erased.stderr).toBe(0);
    const c = JSON.parse(erased.stdout) as ErasureCertificate;
    expect(c).toMatchObject({ userId: pair.org.id, filesShredded: 1, privateKeyDestroyed: true });
    const { publicKeyPem } = (await t.app.inject({ method: 'GET', url: '/api/v1/audit/public-key' })).json<{ publicKeyPem: string }>();
    const message = JSON.stringify(['sfe-erasure-v1', c.userId, c.erasedAt, c.privateKeyDestroyed, c.filesShredded, c.grantsRevoked, c.keyId]);
    expect(verify(null, Buffer.from(message), createPublicKey(publicKeyPem), Buffer.from(c.signature, 'base64'))).toBe(true);
  });

  it('reports, verifies and dry-runs a purge; verify exits 1 once the trail is edited', async () => {
    const report = await sfe('audit', 'report', '--days', '7', '--json');
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ total: expect.any(Number), failed: expect.any(Number), byOperation: expect.objectContaining({ user_erased: { total: 1, failed: 0 } }) });
    const csv = await sfe('audit', 'report', '--csv');
    expect(csv.stdout.split('\n')[0]).toBe('id,timestamp,operation,success,userId,ipAddress,details');
    expect((await sfe('audit', 'report', '--days', 'x')).code).toBe(2);

    const purge = await sfe('audit', 'purge', '--dry-run', '--json');
    expect(JSON.parse(purge.stdout)).toEqual({ dryRun: true, auditRecords: 0, closedGrants: 0, tombstones: 0 });

    const ok = await sfe('audit', 'verify', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, firstBrokenId: null });

    const victim = await prisma.cryptoLog.findFirstOrThrow({ where: { operation: 'user_erased' } });
    await prisma.cryptoLog.update({ where: { seq: victim.seq }, data: { details: '{}' } });
    const broken = await sfe('audit', 'verify', '--json');
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, firstBrokenId: victim.id });
  });
});
