import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../db/client.ts';
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

export function createAuditRepository(prisma: PrismaClient) {
  // Appends from this process go one at a time, so they never race each other for
  // the tip; the unique prev_hash settles races with other processes.
  let tail: Promise<unknown> = Promise.resolve();

  /**
   * Appends one record to the chain. prev_hash is unique, so two writers racing for
   * the same predecessor cannot both win: the loser re-reads the tip and retries.
   */
  async function appendNow(event: AuditEvent, id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const tip = await prisma.cryptoLog.findFirst({ orderBy: { seq: 'desc' }, select: { hash: true } });
      const base = {
        id,
        userId: event.userId ?? null,
        operation: event.operation,
        details: JSON.stringify(event.details ?? {}),
        success: event.success,
        timestamp: new Date(),
        ipAddress: event.ipAddress ?? null,
        prevHash: tip?.hash ?? GENESIS_HASH,
      };
      try {
        await prisma.cryptoLog.create({ data: { ...base, hash: auditRecordHash(base) } });
        return;
      } catch (error) {
        if (attempt < 20 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  return {
    append(event: AuditEvent, id: string): Promise<void> {
      const done = tail.then(() => appendNow(event, id));
      tail = done.catch(() => undefined);
      return done;
    },

    /**
     * Walks the chain in order and recomputes every link. Returns the first record whose
     * stored hash or back-link does not match (edited, deleted or reordered history).
     */
    async verifyChain(batchSize = 1000): Promise<{ ok: boolean; checked: number; firstBrokenId: string | null }> {
      let expectedPrev = GENESIS_HASH;
      let checked = 0;
      let afterSeq = 0;
      for (;;) {
        const batch = await prisma.cryptoLog.findMany({ where: { seq: { gt: afterSeq } }, orderBy: { seq: 'asc' }, take: batchSize });
        for (const record of batch) {
          const { seq: _seq, hash, ...fields } = record;
          if (record.prevHash !== expectedPrev || auditRecordHash(fields) !== hash) {
            return { ok: false, checked, firstBrokenId: record.id };
          }
          expectedPrev = hash;
          checked++;
        }
        const last = batch.at(-1);
        if (!last || batch.length < batchSize) return { ok: true, checked, firstBrokenId: null };
        afterSeq = last.seq;
      }
    },

    async count(where: { operation?: string; userId?: string } = {}): Promise<number> {
      return prisma.cryptoLog.count({ where });
    },

    async list(where: { operation?: string; userId?: string }, take = 1000): Promise<AuditRecord[]> {
      return prisma.cryptoLog.findMany({ where, orderBy: { seq: 'asc' }, take });
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}
