import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { providerOf, type Prisma, type PrismaClient } from '../../db/client.ts';
import type { AuditEvent } from './audit.operations.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  seq: number;
  id: string;
  userId: string | null;
  operation: string;
  details: string;
  success: boolean;
  timestamp: Date;
  ipAddress: string | null;
  prevHash: string;
  hash: string;
}

/**
 * The hash of one record: SHA-256 over the previous hash and the record's fields in a
 * fixed order, so editing, deleting or reordering any record breaks every later link.
 */
export function auditRecordHash(r: Omit<AuditRecord, 'seq' | 'hash'>): string {
  const canonical = JSON.stringify([
    r.prevHash,
    r.id,
    r.userId,
    r.operation,
    r.details,
    r.success,
    r.timestamp.toISOString(),
    r.ipAddress,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface ChainHead {
  seq: number;
  hash: string;
  timestamp: Date;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBrokenId: string | null;
  reason: null | 'record_missing' | 'record_altered' | 'checkpoint_invalid' | 'checkpoint_mismatch' | 'records_missing_after_checkpoint';
}

export interface CheckpointRow {
  id: string;
  seq: number;
  hash: string;
  createdAt: Date;
  signature: string;
  keyId: string;
  reason: string;
}

export interface AuditFilter {
  from?: Date;
  to?: Date;
  operation?: string;
  userId?: string;
  success?: boolean;
}

function toWhere(f: AuditFilter) {
  return {
    ...(f.operation !== undefined ? { operation: f.operation } : {}),
    ...(f.userId !== undefined ? { userId: f.userId } : {}),
    ...(f.success !== undefined ? { success: f.success } : {}),
    ...(f.from || f.to ? { timestamp: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
  };
}

export function createAuditRepository(prisma: PrismaClient) {
  const postgres = providerOf(prisma) === 'postgresql';
  // Appends from this process go one at a time, so they never race each other for
  // the tip; the unique prev_hash settles races with other processes.
  let tail: Promise<unknown> = Promise.resolve();

  /** The next record's fields, linked to the current tip (or the purge anchor), and the seq after it. */
  async function nextRecord(db: Prisma.TransactionClient | PrismaClient, event: AuditEvent, id: string) {
    const tip = await db.cryptoLog.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
    // After a purge of the whole log, the chain continues from the purge anchor.
    const anchor = tip ? null : await db.auditCheckpoint.findFirst({ where: { reason: 'purge' }, orderBy: { seq: 'desc' } });
    const base = {
      id,
      userId: event.userId ?? null,
      operation: event.operation,
      details: JSON.stringify(event.details ?? {}),
      success: event.success,
      timestamp: new Date(),
      ipAddress: event.ipAddress ?? null,
      prevHash: tip?.hash ?? anchor?.hash ?? GENESIS_HASH,
    };
    return { base, seq: (tip?.seq ?? anchor?.seq ?? 0) + 1 };
  }

  /**
   * PostgreSQL: a sequence value is spent even when its insert fails or never commits,
   * so racing writers (or a crash mid-append) would leave gaps that verify must report.
   * Appends across replicas take one advisory lock instead and number the record after
   * the highest seq ever given out (audit_chain_head, kept in the same transaction):
   * nothing is spent unless it commits, and a cut tail is not numbered again.
   */
  async function appendPostgres(event: AuditEvent, id: string): Promise<ChainHead> {
    return prisma.$transaction(
      async (tx) => {
        // One key for the audit chain; held until the transaction ends.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(7362010417)`;
        const { base, seq: afterTip } = await nextRecord(tx, event, id);
        const head = await tx.auditChainHead.findUnique({ where: { id: 1 } });
        const seq = Math.max(afterTip, (head?.seq ?? 0) + 1);
        await tx.auditChainHead.upsert({ where: { id: 1 }, create: { id: 1, seq }, update: { seq } });
        return tx.cryptoLog.create({ data: { ...base, seq, hash: auditRecordHash(base) }, select: { seq: true, hash: true, timestamp: true } });
      },
      { maxWait: 10_000, timeout: 10_000 },
    );
  }

  /**
   * Appends one record to the chain. SQLite: AUTOINCREMENT is part of the transaction (a
   * failed insert spends nothing), and prev_hash is unique, so of two writers racing for
   * the same predecessor only one wins: the loser re-reads the tip and retries.
   */
  async function appendNow(event: AuditEvent, id: string): Promise<ChainHead> {
    if (postgres) return appendPostgres(event, id);
    for (let attempt = 0; ; attempt++) {
      const { base } = await nextRecord(prisma, event, id);
      try {
        const created = await prisma.cryptoLog.create({ data: { ...base, hash: auditRecordHash(base) }, select: { seq: true, hash: true, timestamp: true } });
        return created;
      } catch (error) {
        if (attempt < 20 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  return {
    append(event: AuditEvent, id: string): Promise<ChainHead> {
      const done = tail.then(() => appendNow(event, id));
      tail = done.catch(() => undefined);
      return done;
    },

    /**
     * Walks the chain in order: every back-link and hash recomputed, seq without gaps
     * (AUTOINCREMENT never reuses one), and each checkpoint's record still there with
     * the signed hash. Starts at the genesis hash, or at a purge anchor.
     */
    async verifyChain(
      options: { anchor?: { seq: number; hash: string }; checkpoints?: Map<number, string[]>; batchSize?: number } = {},
    ): Promise<ChainVerification> {
      const batchSize = options.batchSize ?? 1000;
      const pending = new Map(options.checkpoints ?? []);
      let expectedPrev = options.anchor?.hash ?? GENESIS_HASH;
      let expectedSeq = (options.anchor?.seq ?? 0) + 1;
      let checked = 0;
      let afterSeq = 0;
      let lastId: string | null = null;
      for (;;) {
        const batch = await prisma.cryptoLog.findMany({ where: { seq: { gt: afterSeq } }, orderBy: { seq: 'asc' }, take: batchSize });
        for (const record of batch) {
          const { seq: _seq, hash, ...fields } = record;
          if (record.seq !== expectedSeq || record.prevHash !== expectedPrev) {
            return { ok: false, checked, firstBrokenId: record.id, reason: 'record_missing' };
          }
          if (auditRecordHash(fields) !== hash) return { ok: false, checked, firstBrokenId: record.id, reason: 'record_altered' };
          if ((pending.get(record.seq) ?? []).some((signed) => signed !== hash)) {
            return { ok: false, checked, firstBrokenId: record.id, reason: 'checkpoint_mismatch' };
          }
          pending.delete(record.seq);
          expectedPrev = hash;
          expectedSeq = record.seq + 1;
          lastId = record.id;
          checked++;
        }
        const last = batch.at(-1);
        if (!last || batch.length < batchSize) break;
        afterSeq = last.seq;
        // SQLite answers synchronously: give requests a turn between batches of a long chain.
        await nextTurn();
      }
      // A signed checkpoint names a record past the end: the tail was cut off.
      if (pending.size > 0) return { ok: false, checked, firstBrokenId: lastId, reason: 'records_missing_after_checkpoint' };
      return { ok: true, checked, firstBrokenId: null, reason: null };
    },

    /** Records in chain order, a batch at a time (for verify and the CSV export). */
    batchAfter: (afterSeq: number, take: number, where: AuditFilter = {}): Promise<AuditRecord[]> =>
      prisma.cryptoLog.findMany({ where: { ...toWhere(where), seq: { gt: afterSeq } }, orderBy: { seq: 'asc' }, take }),

    /** Newest first; the cursor is the seq of the last record of the previous page. */
    async page(where: AuditFilter, limit: number, beforeSeq?: number): Promise<{ rows: AuditRecord[]; nextCursor: string | null }> {
      const rows = await prisma.cryptoLog.findMany({
        where: { ...toWhere(where), ...(beforeSeq !== undefined ? { seq: { lt: beforeSeq } } : {}) },
        orderBy: { seq: 'desc' },
        take: limit + 1,
      });
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      return { rows: page, nextCursor: more ? String(page.at(-1)?.seq ?? '') : null };
    },

    /** Totals by operation and outcome over a period. */
    async summary(from: Date, to: Date): Promise<Array<{ operation: string; success: boolean; count: number }>> {
      const groups = await prisma.cryptoLog.groupBy({
        by: ['operation', 'success'],
        where: { timestamp: { gte: from, lte: to } },
        _count: { _all: true },
      });
      return groups.map((g) => ({ operation: g.operation, success: g.success, count: g._count._all }));
    },

    /** Totals and failures in each period, one small indexed count pair per period. */
    async countsIn(periods: ReadonlyArray<{ from: Date; to: Date }>): Promise<Array<{ total: number; failed: number }>> {
      const counts: Array<{ total: number; failed: number }> = [];
      for (const p of periods) {
        const groups = await prisma.cryptoLog.groupBy({
          by: ['success'],
          where: { timestamp: { gte: p.from, lt: p.to } },
          _count: { _all: true },
        });
        const total = groups.reduce((n, g) => n + g._count._all, 0);
        counts.push({ total, failed: groups.find((g) => !g.success)?._count._all ?? 0 });
      }
      return counts;
    },

    head: (): Promise<ChainHead | null> =>
      prisma.cryptoLog.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true, timestamp: true } }),

    first: () => prisma.cryptoLog.findFirst({ orderBy: { seq: 'asc' }, select: { seq: true, prevHash: true, id: true } }),

    findBySeq: (seq: number) => prisma.cryptoLog.findUnique({ where: { seq }, select: { id: true, hash: true } }),

    saveCheckpoint: (data: Omit<CheckpointRow, 'id'>) => prisma.auditCheckpoint.create({ data }),

    latestCheckpoint: (): Promise<CheckpointRow | null> => prisma.auditCheckpoint.findFirst({ orderBy: [{ seq: 'desc' }, { createdAt: 'desc' }] }),

    checkpoints: (): Promise<CheckpointRow[]> => prisma.auditCheckpoint.findMany({ orderBy: [{ seq: 'asc' }, { createdAt: 'asc' }] }),

    /** The newest record written before `cutoff`: everything up to it may be purged. */
    lastBefore: (cutoff: Date) =>
      prisma.cryptoLog.findFirst({ where: { timestamp: { lt: cutoff } }, orderBy: { seq: 'desc' }, select: { seq: true, hash: true } }),

    countUpTo: (seq: number) => prisma.cryptoLog.count({ where: { seq: { lte: seq } } }),

    /**
     * Removes the records up to `seq` and stores the re-anchoring checkpoint (signed by
     * the caller) in one transaction, so the chain is never left without its anchor.
     */
    async purgeUpTo(seq: number, anchor: Omit<CheckpointRow, 'id'>): Promise<number> {
      return prisma.$transaction(async (tx) => {
        await tx.auditCheckpoint.create({ data: anchor });
        await tx.auditCheckpoint.deleteMany({ where: { seq: { lt: seq } } });
        const removed = await tx.cryptoLog.deleteMany({ where: { seq: { lte: seq } } });
        return removed.count;
      });
    },

    async count(where: { operation?: string; userId?: string } = {}): Promise<number> {
      return prisma.cryptoLog.count({ where });
    },

    /** Events of one kind in a time window, for alert baselines. */
    countSince: (where: { operation: string; userId?: string; success?: boolean; ipAddress?: string }, since: Date, until?: Date) =>
      prisma.cryptoLog.count({ where: { ...where, timestamp: { gte: since, ...(until ? { lt: until } : {}) } } }),

    async list(where: { operation?: string; userId?: string }, take = 1000): Promise<AuditRecord[]> {
      return prisma.cryptoLog.findMany({ where, orderBy: { seq: 'asc' }, take });
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}
