import { Prisma, providerOf, type PrismaClient, type RotationJob } from '../../db/client.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';

export type RotationJobRow = RotationJob;

/** A live file's wrapped DEK, as rotation and verify read it (wrappedKey: only rows that have one). */
export type WrappedDekRow = Omit<Prisma.EncryptedFileGetPayload<{ select: typeof dekSelect }>, 'wrappedKey'> & { wrappedKey: Uint8Array };

export interface Rewrap {
  id: string;
  /** The wrapped value read before re-wrapping: the row changes only if it still holds it. */
  expected: Buffer;
  next: Buffer;
}

const ROTATION_LOCK = 'kek';

class LostLeaseError extends Error {}
const live = { deletedAt: null, wrappedKey: { not: null } } as const;
const dekSelect = { id: true, kekId: true, wrappedKey: true, blobKey: true, algorithm: true, size: true } as const satisfies Prisma.EncryptedFileSelect;

export function createKekRepository(prisma: PrismaClient) {
  const postgres = providerOf(prisma) === 'postgresql';
  return {
    /**
     * Live KEK-wrapped values per key id (the kek_id indexes answer it): files' DEKs
     * and users' TOTP secrets, so status, preflight and retirement count both.
     */
    async countByKeyId(): Promise<Record<string, number>> {
      const groups = await prisma.encryptedFile.groupBy({ by: ['kekId'], where: live, _count: { _all: true } });
      const secrets = await prisma.mfaTotp.groupBy({ by: ['kekId'], _count: { _all: true } });
      const counts: Record<string, number> = {};
      for (const group of groups) counts[group.kekId ?? 'unknown'] = group._count._all;
      for (const group of secrets) counts[group.kekId] = (counts[group.kekId] ?? 0) + group._count._all;
      return counts;
    },

    /** TOTP secrets in user id order after `cursor` (with `notUnder`: those wrapped by any other key). */
    totpPage: (filter: { notUnder?: string }, cursor: string | null, limit: number) =>
      prisma.mfaTotp.findMany({
        where: { ...(filter.notUnder ? { kekId: { not: filter.notUnder } } : {}), ...(cursor ? { userId: { gt: cursor } } : {}) },
        orderBy: { userId: 'asc' },
        take: limit,
        select: { userId: true, kekId: true, wrappedSecret: true },
      }),

    /**
     * Re-wraps a batch of TOTP secrets and counts it on the job in one transaction; each
     * row changes only if it still holds the value read (a secret replaced or removed
     * meanwhile is left alone).
     */
    async commitTotpBatch(
      job: { id: string; owner: string },
      batch: Array<{ userId: string; expected: Buffer; next: Buffer }>,
      keyId: string,
      step: { done: number; failed: number; leaseUntil: Date; details: (rewrapped: number) => Record<string, unknown> },
    ): Promise<{ rewrapped: number; owned: boolean }> {
      return prisma.$transaction(async (tx) => {
        let rewrapped = 0;
        for (const row of batch) {
          const moved = await tx.mfaTotp.updateMany({
            where: { userId: row.userId, wrappedSecret: new Uint8Array(row.expected) },
            data: { wrappedSecret: new Uint8Array(row.next), kekId: keyId },
          });
          rewrapped += moved.count;
        }
        const updated = await tx.rotationJob.updateMany({
          where: { id: job.id, owner: job.owner, runningLock: ROTATION_LOCK },
          data: { done: { increment: step.done }, rewrapped: { increment: rewrapped }, failed: { increment: step.failed }, leaseUntil: step.leaseUntil, lastBatch: JSON.stringify(step.details(rewrapped)) },
        });
        if (updated.count !== 1) throw new LostLeaseError();
        return { rewrapped, owned: true };
      }).catch((error: unknown) => {
        if (error instanceof LostLeaseError) return { rewrapped: 0, owned: false };
        throw error;
      });
    },

    /**
     * Live wrapped DEKs in id order after `cursor`: all of them, or (with `notUnder`)
     * those wrapped by any key but that one.
     */
    page: async (filter: { notUnder?: string }, cursor: string | null, limit: number): Promise<WrappedDekRow[]> =>
      (await prisma.encryptedFile.findMany({
        where: {
          ...live,
          ...(filter.notUnder ? { OR: [{ kekId: { not: filter.notUnder } }, { kekId: null }] } : {}),
          ...(cursor ? { id: { gt: cursor } } : {}),
        },
        orderBy: { id: 'asc' },
        take: limit,
        select: dekSelect,
      })) as WrappedDekRow[],

    /**
     * Re-wraps one batch and records it on the job in ONE transaction, so a kill can
     * never leave rows moved but not counted. The re-wrap is one statement for the whole
     * batch, compare-and-set per row: a row changes only if it still holds the wrapped
     * value that was read (a file shredded meanwhile keeps its null). The job keeps the
     * batch's audit details (`lastBatch`) until clearLastBatch(): the audit record is
     * written after the commit, and a run killed in between leaves them for the rerun.
     *
     * UPDATE ... FROM joins each batch row to its file by primary key. The unary `+`
     * (a no-op on any value) keeps SQLite from indexing v on `expected` and scanning the
     * whole table against it; correlated `(SELECT ... FROM v WHERE v.id = ...)` lookups
     * instead scan v once per row, quadratic in the batch size. PostgreSQL has no unary
     * `+` on bytea and types VALUES parameters as text unless told: there the columns
     * of v are cast instead (its planner joins the CTE by id either way).
     */
    async commitBatch(
      job: { id: string; owner: string },
      batch: Rewrap[],
      keyId: string,
      step: { cursor: string; done: number; failed: number; leaseUntil: Date; details: (rewrapped: number) => Record<string, unknown> },
    ): Promise<{ rewrapped: number; owned: boolean }> {
      return prisma.$transaction(async (tx) => {
        let rewrapped = 0;
        if (batch.length > 0) {
          // PostgreSQL needs the VALUES typed (and has no unary + on bytea); on SQLite the
          // unary + stops the planner indexing the batch on its blob and scanning the
          // table against it. Otherwise the statement is the same on both.
          const values = Prisma.join(
            batch.map((row) =>
              postgres
                ? Prisma.sql`(CAST(${row.id} AS TEXT), CAST(${new Uint8Array(row.expected)} AS BYTEA), CAST(${new Uint8Array(row.next)} AS BYTEA))`
                : Prisma.sql`(${row.id}, ${new Uint8Array(row.expected)}, ${new Uint8Array(row.next)})`,
            ),
          );
          const expected = postgres ? Prisma.sql`v.expected` : Prisma.sql`+v.expected`;
          rewrapped = await tx.$executeRaw`
            WITH v(id, expected, next) AS (VALUES ${values})
            UPDATE encrypted_files
               SET wrapped_key = v.next, kek_id = ${keyId}
              FROM v
             WHERE encrypted_files.id = v.id
               AND encrypted_files.deleted_at IS NULL
               AND encrypted_files.wrapped_key = ${expected}`;
        }
        const updated = await tx.rotationJob.updateMany({
          where: { id: job.id, owner: job.owner, runningLock: ROTATION_LOCK },
          data: {
            cursor: step.cursor,
            done: { increment: step.done },
            rewrapped: { increment: rewrapped },
            failed: { increment: step.failed },
            leaseUntil: step.leaseUntil,
            lastBatch: JSON.stringify(step.details(rewrapped)),
          },
        });
        // Another process took the job over: undo this batch's re-wrap too.
        if (updated.count !== 1) throw new LostLeaseError();
        return { rewrapped, owned: true };
      }).catch((error: unknown) => {
        if (error instanceof LostLeaseError) return { rewrapped: 0, owned: false };
        throw error;
      });
    },

    /** The batch's dek_rewrapped record is written: forget its details. */
    clearLastBatch: (id: string, owner: string) =>
      prisma.rotationJob.updateMany({ where: { id, owner, runningLock: ROTATION_LOCK }, data: { lastBatch: null } }),

    /**
     * Claims the one running rotation: a new job, or the unfinished one whose lease has
     * lapsed (its process died). Null when another process holds a live lease.
     */
    async claim(input: {
      owner: string;
      leaseUntil: Date;
      now: Date;
      toKeyId: string;
      total: number;
      beforeCounts: string;
      createdById: string | null;
    }): Promise<{ job: RotationJobRow; resumed: boolean } | null> {
      const taken = await prisma.rotationJob.updateMany({
        where: { runningLock: ROTATION_LOCK, OR: [{ leaseUntil: null }, { leaseUntil: { lt: input.now } }] },
        data: { owner: input.owner, leaseUntil: input.leaseUntil },
      });
      if (taken.count === 1) {
        const job = await prisma.rotationJob.findFirst({ where: { runningLock: ROTATION_LOCK, owner: input.owner } });
        if (job) return { job, resumed: true };
      }
      try {
        const job = await prisma.rotationJob.create({
          data: {
            kind: 'kek',
            toKeyId: input.toKeyId,
            status: 'running',
            runningLock: ROTATION_LOCK,
            owner: input.owner,
            leaseUntil: input.leaseUntil,
            total: input.total,
            beforeCounts: input.beforeCounts,
            createdById: input.createdById,
            startedAt: input.now,
          },
        });
        return { job, resumed: false };
      } catch (error) {
        if (isUniqueViolation(error)) return null;
        throw error;
      }
    },

    /** Ends the job and frees the lock for the next rotation. */
    async finish(id: string, owner: string, outcome: { status: 'completed' | 'failed'; error: string | null; now: Date }): Promise<boolean> {
      const updated = await prisma.rotationJob.updateMany({
        where: { id, owner, runningLock: ROTATION_LOCK },
        data: { status: outcome.status, error: outcome.error, finishedAt: outcome.now, runningLock: null, owner: null, leaseUntil: null },
      });
      return updated.count === 1;
    },

    /** Gives the lease up at once (a clean shutdown), so a rerun need not wait for it to lapse. */
    release: (id: string, owner: string) =>
      prisma.rotationJob.updateMany({ where: { id, owner, runningLock: ROTATION_LOCK }, data: { owner: null, leaseUntil: null } }),

    findJob: (id: string) => prisma.rotationJob.findUnique({ where: { id } }),

    latestJob: () => prisma.rotationJob.findFirst({ where: { kind: 'kek' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),

    runningJob: () => prisma.rotationJob.findFirst({ where: { runningLock: ROTATION_LOCK } }),
  };
}
export type KekRepository = ReturnType<typeof createKekRepository>;
