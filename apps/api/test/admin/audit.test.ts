import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditList, AuditReport, AuditVerifyResult } from '@sfe/contract';
import type { PrismaClient } from '../../src/db/client.ts';
import { createAuditSigner } from '../../src/lib/audit-signer.ts';
import { createAccessRequestsRepository } from '../../src/modules/access-requests/access-requests.repository.ts';
import { createAuditRepository } from '../../src/modules/audit/audit.repository.ts';
import { createAuditService } from '../../src/modules/audit/audit.service.ts';
import { createFilesRepository } from '../../src/modules/files/files.repository.ts';
import { createLeasesRepository } from '../../src/modules/retention/leases.repository.ts';
import { createRetentionService } from '../../src/modules/retention/retention.service.ts';
import { buildTestApp, type Session, type TestApp } from '../helpers/app.ts';
import { adminCall, newAdmin, openDb } from '../helpers/admin.ts';
import { expectProblem, grantedPair, loginRaw, newUser } from '../helpers/fixtures.ts';

const ENV = { AUDIT_CHECKPOINT_EVERY: '5' };

async function setUp() {
  const t = await buildTestApp({ env: ENV });
  const prisma = openDb(t);
  const admin = await newAdmin(t, prisma);
  await grantedPair(t.app);
  return { t, prisma, admin };
}

const verify = async (t: TestApp, admin: Session) => (await adminCall(t.app, admin, 'GET', '/audit/verify')).json<AuditVerifyResult>();

describe('audit list and report', () => {
  let t: TestApp;
  let prisma: PrismaClient;
  let admin: Session;
  beforeAll(async () => ({ t, prisma, admin } = await setUp()));
  afterAll(async () => {
    await prisma.$disconnect();
    await t.cleanup();
  });

  it('lists newest first with filters and a cursor', async () => {
    const user = await newUser(t.app, 'organization');
    await loginRaw(t.app, user.username, 'not the password at all');
    const page = (await adminCall(t.app, admin, 'GET', '/audit?limit=3')).json<AuditList>();
    expect(page.items).toHaveLength(3);
    const stamps = page.items.map((i) => i.timestamp);
    expect([...stamps].sort().reverse()).toEqual(stamps);
    const next = (await adminCall(t.app, admin, 'GET', `/audit?limit=3&cursor=${page.nextCursor}`)).json<AuditList>();
    expect(next.items.map((i) => i.id)).not.toContain(page.items[0]?.id);

    const failed = (await adminCall(t.app, admin, 'GET', `/audit?operation=login_failed&success=false&userId=${user.id}`)).json<AuditList>();
    expect(failed.items).toHaveLength(1);
    expect(failed.items[0]).toMatchObject({ operation: 'login_failed', success: false, userId: user.id, details: { reason: 'wrong_password' } });
    const future = (await adminCall(t.app, admin, 'GET', `/audit?from=${new Date(Date.now() + 60_000).toISOString()}`)).json<AuditList>();
    expect(future.items).toEqual([]);
    expectProblem(await adminCall(t.app, admin, 'GET', '/audit?cursor=not-a-cursor'), 400, 'VALIDATION_FAILED');
  });

  it('reports totals by operation, and the records as streamed CSV', async () => {
    const report = (await adminCall(t.app, admin, 'GET', '/audit/report?days=30')).json<AuditReport>();
    expect(report.total).toBe(await prisma.cryptoLog.count());
    expect(report.failed).toBe(await prisma.cryptoLog.count({ where: { success: false } }));
    expect(report.byOperation.keypair_generated?.total).toBeGreaterThanOrEqual(3);
    expect(report.byOperation.login_failed).toEqual({ total: 1, failed: 1 });
    expect(new Date(report.to).getTime() - new Date(report.from).getTime()).toBe(30 * 86_400_000);

    const csv = await adminCall(t.app, admin, 'GET', '/audit/report?days=30&format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('id,timestamp,operation,success,userId,ipAddress,details');
    expect(lines.length - 1).toBeGreaterThanOrEqual(report.total);
    expect(csv.body).toContain(',login_failed,false,');
  });

  it('reports per UTC day for a chart, oldest first, and only for periods a chart can show', async () => {
    // Move one failed record three days back (this app's chain is not verified afterwards).
    const moved = await prisma.cryptoLog.findFirstOrThrow({ where: { operation: 'login_failed' } });
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    await prisma.cryptoLog.update({ where: { id: moved.id }, data: { timestamp: threeDaysAgo } });

    const report = (await adminCall(t.app, admin, 'GET', '/audit/report?days=30')).json<AuditReport>();
    const byDay = report.byDay ?? [];
    const today = new Date().toISOString().slice(0, 10);
    expect(byDay.at(-1)?.day).toBe(today);
    expect(byDay[0]?.day).toBe(report.from.slice(0, 10));
    expect(byDay.length).toBeGreaterThanOrEqual(30);
    for (let i = 1; i < byDay.length; i++) {
      expect(Date.parse(byDay[i]?.day ?? '') - Date.parse(byDay[i - 1]?.day ?? '')).toBe(86_400_000);
    }
    expect(byDay.reduce((n, d) => n + d.total, 0)).toBe(report.total);
    expect(byDay.reduce((n, d) => n + d.failed, 0)).toBe(report.failed);
    const moveDay = byDay.find((d) => d.day === threeDaysAgo.toISOString().slice(0, 10));
    expect(moveDay).toEqual({ day: threeDaysAgo.toISOString().slice(0, 10), total: 1, failed: 1 });
    expect(byDay.find((d) => d.day === today)?.failed).toBe(report.failed - 1);

    const long = (await adminCall(t.app, admin, 'GET', '/audit/report?days=365')).json<AuditReport>();
    expect(long.byDay).toBeUndefined();
    expect(long.total).toBe(report.total);
  });
});

describe('audit verify', () => {
  it('passes on an intact chain, signs checkpoints and records audit_verified', async () => {
    const { t, prisma, admin } = await setUp();
    try {
      expect(await verify(t, admin)).toMatchObject({ ok: true, firstBrokenId: null });
      expect(await prisma.auditCheckpoint.count()).toBeGreaterThan(0);
      expect(await prisma.cryptoLog.count({ where: { operation: 'audit_verified', success: true } })).toBe(1);
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });

  it('finds an edited record', async () => {
    const { t, prisma, admin } = await setUp();
    try {
      const victim = await prisma.cryptoLog.findFirstOrThrow({ where: { operation: 'key_wrapped' } });
      await prisma.cryptoLog.update({ where: { seq: victim.seq }, data: { success: false } });
      expect(await verify(t, admin)).toMatchObject({ ok: false, firstBrokenId: victim.id, reason: 'record_altered' });
      expect(await prisma.cryptoLog.count({ where: { operation: 'audit_verified', success: false } })).toBe(1);
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });

  it('finds a tail cut back past a checkpoint, even with every remaining link intact', async () => {
    const { t, prisma, admin } = await setUp();
    try {
      const last = await prisma.auditCheckpoint.findFirstOrThrow({ orderBy: { seq: 'desc' } });
      await prisma.cryptoLog.deleteMany({ where: { seq: { gte: last.seq - 1 } } });
      expect(await verify(t, admin)).toMatchObject({ ok: false, reason: 'records_missing_after_checkpoint' });
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });

  it('finds a tail cut after the last checkpoint once the log goes on', async () => {
    const { t, prisma, admin } = await setUp();
    try {
      const last = await prisma.auditCheckpoint.findFirstOrThrow({ orderBy: { seq: 'desc' } });
      const head = await prisma.cryptoLog.findFirstOrThrow({ orderBy: { seq: 'desc' } });
      if (head.seq === last.seq) await loginRaw(t.app, admin.username, 'a wrong password here');
      await prisma.cryptoLog.deleteMany({ where: { seq: { gt: last.seq } } });
      await loginRaw(t.app, admin.username, 'another wrong password');
      expect(await verify(t, admin)).toMatchObject({ ok: false, reason: 'record_missing' });
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });

  it('finds a forged checkpoint', async () => {
    const { t, prisma, admin } = await setUp();
    try {
      const last = await prisma.auditCheckpoint.findFirstOrThrow({ orderBy: { seq: 'desc' } });
      await prisma.auditCheckpoint.update({ where: { id: last.id }, data: { hash: 'f'.repeat(64) } });
      expect(await verify(t, admin)).toMatchObject({ ok: false, firstBrokenId: last.id, reason: 'checkpoint_invalid' });
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });
});

describe('retention purge', () => {
  it('removes what is past retention, records it, and verify stays green', async () => {
    const { t, prisma, admin } = await setUp();
    try {
      const auditRepository = createAuditRepository(prisma);
      const signer = createAuditSigner(t.config.auditSigningKey);
      const retention = createRetentionService({
        policy: t.config.retention,
        auditRepository,
        accessRequests: createAccessRequestsRepository(prisma),
        files: createFilesRepository(prisma),
        leases: createLeasesRepository(prisma),
        audit: createAuditService({ auditRepository, log: { error: () => undefined }, signer, checkpointEvery: 5, checkpointMinutes: 0 }),
        signer,
      });
      const before = await prisma.cryptoLog.count();
      // Nothing is 7 years old yet: a dry run over the API counts nothing.
      const dry = await adminCall(t.app, admin, 'POST', '/audit/purge', { dryRun: true });
      expect(dry.json()).toEqual({ dryRun: true, auditRecords: 0, closedGrants: 0, tombstones: 0 });

      const later = new Date(Date.now() + 8 * 365 * 86_400_000);
      expect(await retention.purge(null, { dryRun: true, now: later })).toMatchObject({ auditRecords: before });
      const result = await retention.purge(null, { dryRun: false, now: later });
      expect(result.auditRecords).toBe(before);
      const left = await prisma.cryptoLog.findMany();
      expect(left.map((r) => r.operation)).toEqual(['audit_purged']);
      expect(await verify(t, admin)).toMatchObject({ ok: true, checked: 1 });

      await grantedPair(t.app);
      expect(await verify(t, admin)).toMatchObject({ ok: true });
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });

  it('lets one purge run at a time', async () => {
    const { t, prisma } = await setUp();
    try {
      const leases = createLeasesRepository(prisma);
      expect(await leases.acquire('retention-purge', 'someone-else', 60_000)).toBe(true);
      expect(await leases.acquire('retention-purge', 'me', 60_000)).toBe(false);
      await leases.release('retention-purge', 'someone-else');
      expect(await leases.acquire('retention-purge', 'me', 60_000)).toBe(true);
    } finally {
      await prisma.$disconnect();
      await t.cleanup();
    }
  });
});
