import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPrismaClient } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrate-runner.ts';
import { createAuditRepository } from '../../src/modules/audit/audit.repository.ts';
import { makeDataDir } from '../helpers/app.ts';
import { testDatabaseUrl } from '../helpers/database.ts';

/**
 * PostgreSQL sequences spend a value on every failed insert. The chain's numbering must
 * not: two writers (two replicas) racing for the tip, or an append whose transaction
 * fails, would otherwise leave gaps that verify reports as removed records.
 */
describe('the audit chain on PostgreSQL', { timeout: 120_000 }, () => {
  const open = async () => {
    const url = testDatabaseUrl(`${await makeDataDir()}/chain`);
    if (!url) throw new Error('the api-pg project provides the server');
    await applyMigrations({ databaseUrl: url });
    return url;
  };

  it('stays gapless while two writers append at once, and verifies', async () => {
    const url = await open();
    const [one, two] = [createPrismaClient(url), createPrismaClient(url)];
    try {
      const [a, b] = [createAuditRepository(one), createAuditRepository(two)];
      const append = (repo: typeof a, i: number) => repo.append({ operation: 'login_failed', success: i % 2 === 0, details: { i } }, randomUUID());
      await Promise.all(Array.from({ length: 60 }, (_, i) => append(i % 2 === 0 ? a : b, i)));
      const seqs = (await one.cryptoLog.findMany({ orderBy: { seq: 'asc' }, select: { seq: true } })).map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 60 });
      expect(await one.auditChainHead.findUnique({ where: { id: 1 } })).toEqual({ id: 1, seq: 60 });
    } finally {
      await Promise.all([one.$disconnect(), two.$disconnect()]);
    }
  });

  it('spends no number on an append that fails, and numbers nothing again after a cut tail', async () => {
    const url = await open();
    const prisma = createPrismaClient(url);
    try {
      const audit = createAuditRepository(prisma);
      for (let i = 0; i < 5; i++) await audit.append({ operation: 'login_failed', success: true }, randomUUID());
      // The same id again: the insert fails inside its transaction.
      const taken = (await prisma.cryptoLog.findFirstOrThrow({ where: { seq: 3 } })).id;
      await expect(audit.append({ operation: 'login_failed', success: true }, taken)).rejects.toThrow();
      await audit.append({ operation: 'login_failed', success: true }, randomUUID());
      expect(await audit.verifyChain()).toMatchObject({ ok: true, checked: 6 });

      // Whoever deletes the newest records cannot have the next append close the gap.
      await prisma.cryptoLog.deleteMany({ where: { seq: { gte: 5 } } });
      const next = await audit.append({ operation: 'login_failed', success: false }, randomUUID());
      expect(next.seq).toBe(7);
      expect(await audit.verifyChain()).toMatchObject({ ok: false, reason: 'record_missing' });
    } finally {
      await prisma.$disconnect();
    }
  });
});
