import { Prisma, type AccessRequestStatus, type PrismaClient } from '../../db/client.ts';
import { readRows, toDateOrNull } from '../../db/direct-read.ts';
import type { Notice, NoticeWriter, Tx } from '../notifications/notifications.repository.ts';

const requestSelect = {
  id: true,
  fileId: true,
  consultantId: true,
  status: true,
  reason: true,
  decisionReason: true,
  wrappedSymmetricKey: true,
  consultantKeyFingerprint: true,
  expiresAt: true,
  maxDownloads: true,
  downloadCount: true,
  createdAt: true,
  processedAt: true,
  file: { select: { filename: true, ownerId: true, deletedAt: true } },
  consultant: { select: { username: true } },
} as const satisfies Prisma.AccessRequestSelect;

export type AccessRequestRow = Prisma.AccessRequestGetPayload<{ select: typeof requestSelect }>;

/**
 * The filter for a status as lists show it (effectiveStatus): a grant past its expiry is
 * `expired` whether or not anything has marked it so yet.
 */
function shownStatus(status: AccessRequestStatus, now: Date): Prisma.AccessRequestWhereInput {
  if (status === 'expired') return { OR: [{ status: 'expired' }, { status: 'approved', expiresAt: { lte: now } }] };
  if (status === 'approved') return { status: 'approved', OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
  return { status };
}

export const openKeyOf = (fileId: string, consultantId: string) => `${fileId}:${consultantId}`;

/** A grant as notices name it: file, filename, both parties. */
const grantRefSelect = {
  id: true,
  fileId: true,
  consultantId: true,
  expiresAt: true,
  file: { select: { filename: true, ownerId: true } },
  consultant: { select: { username: true } },
} as const satisfies Prisma.AccessRequestSelect;
type GrantRefRow = Prisma.AccessRequestGetPayload<{ select: typeof grantRefSelect }>;
export interface GrantRef {
  requestId: string;
  fileId: string;
  filename: string;
  consultantId: string;
  ownerId: string;
  consultantName: string;
  expiresAt: Date | null;
}
export const toGrantRef = (row: GrantRefRow): GrantRef => ({
  requestId: row.id,
  fileId: row.fileId,
  filename: row.file.filename,
  consultantId: row.consultantId,
  ownerId: row.file.ownerId,
  consultantName: row.consultant.username,
  expiresAt: row.expiresAt,
});

/**
 * `notify` writes notices inside the transaction of the change they tell of: a change
 * that did not happen (a lost compare-and-set) tells nothing, and a notice is never
 * lost after its change committed.
 */
export function createAccessRequestsRepository(prisma: PrismaClient, notify: NoticeWriter = async () => {}) {
  /** Runs `change` (one statement) and, when it took effect, writes its notices in the same transaction. */
  async function withNotices(notices: readonly Notice[] | undefined, change: (db: Tx) => Promise<boolean>): Promise<boolean> {
    if (!notices?.length) return change(prisma);
    return prisma.$transaction(async (tx) => {
      const changed = await change(tx);
      if (changed) await notify(tx, notices);
      return changed;
    });
  }

  const refsOf = async (db: Tx, ids: string[]): Promise<GrantRef[]> =>
    ids.length === 0 ? [] : (await db.accessRequest.findMany({ where: { id: { in: ids } }, select: grantRefSelect })).map(toGrantRef);

  return {
    create: (data: { id: string; fileId: string; consultantId: string; reason: string }, noticesOf?: (row: AccessRequestRow) => Notice[]): Promise<AccessRequestRow> =>
      prisma.$transaction(async (tx) => {
        const row = await tx.accessRequest.create({
          data: { ...data, status: 'pending', openKey: openKeyOf(data.fileId, data.consultantId) },
          select: requestSelect,
        });
        if (noticesOf) await notify(tx, noticesOf(row));
        return row;
      }),

    findById: (id: string): Promise<AccessRequestRow | null> =>
      prisma.accessRequest.findUnique({ where: { id }, select: requestSelect }),

    async list(filter: {
      consultantId?: string;
      ownerId?: string;
      status?: AccessRequestStatus;
      fileId?: string;
      limit: number;
      cursor?: string;
    }): Promise<{ rows: AccessRequestRow[]; nextCursor: string | null }> {
      const rows = await prisma.accessRequest.findMany({
        where: {
          ...(filter.consultantId ? { consultantId: filter.consultantId } : {}),
          ...(filter.ownerId ? { file: { ownerId: filter.ownerId } } : {}),
          ...(filter.status ? shownStatus(filter.status, new Date()) : {}),
          ...(filter.fileId ? { fileId: filter.fileId } : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: filter.limit + 1,
        ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
        select: requestSelect,
      });
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      return { rows: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null };
    },

    exists: async (id: string) => (await prisma.accessRequest.count({ where: { id } })) > 0,

    /** The latest request of a consultant for each of the given files; on the file list's hot path, so on the direct reader. */
    async latestStatusByFile(consultantId: string, fileIds: string[]): Promise<Map<string, { status: AccessRequestStatus; expiresAt: Date | null }>> {
      const latest = new Map<string, { status: AccessRequestStatus; expiresAt: Date | null }>();
      if (fileIds.length === 0) return latest;
      const rows = await readRows(
        prisma,
        Prisma.sql`
          SELECT file_id, status, expires_at FROM access_requests
          WHERE consultant_id = ${consultantId} AND file_id IN (${Prisma.join(fileIds)})
          ORDER BY created_at DESC, id DESC`,
        (values) => ({ fileId: values[0] as string, status: values[1] as AccessRequestStatus, expiresAt: toDateOrNull(values[2]) }),
      );
      for (const { fileId, ...latestOfFile } of rows) if (!latest.has(fileId)) latest.set(fileId, latestOfFile);
      return latest;
    },

    /** Compare-and-set on the status: only one concurrent decision can win. */
    async approve(
      id: string,
      data: { wrappedSymmetricKey: Buffer; consultantKeyFingerprint: string; expiresAt: Date | null; maxDownloads: number | null; processedById: string; now: Date },
      notices?: readonly Notice[],
    ): Promise<boolean> {
      return withNotices(notices, async (db) => {
        const result = await db.accessRequest.updateMany({
          where: { id, status: { in: ['pending', 'suspended'] } },
          data: {
            status: 'approved',
            decisionReason: null,
            wrappedSymmetricKey: new Uint8Array(data.wrappedSymmetricKey),
            consultantKeyFingerprint: data.consultantKeyFingerprint,
            expiresAt: data.expiresAt,
            maxDownloads: data.maxDownloads,
            processedAt: data.now,
            processedById: data.processedById,
            expiringNotifiedAt: null,
          },
        });
        return result.count === 1;
      });
    },

    /** Moves a request from one of `from` to a closed status and destroys its wrapped key. */
    async close(
      id: string,
      from: readonly AccessRequestStatus[],
      to: 'denied' | 'revoked' | 'expired',
      data: { processedById?: string; decisionReason?: string | null; now: Date },
      notices?: readonly Notice[],
    ): Promise<boolean> {
      return withNotices(notices, async (db) => {
        const result = await db.accessRequest.updateMany({
          where: { id, status: { in: [...from] } },
          data: {
            status: to,
            wrappedSymmetricKey: null,
            openKey: null,
            processedAt: data.now,
            ...(data.processedById ? { processedById: data.processedById } : {}),
            ...(data.decisionReason !== undefined ? { decisionReason: data.decisionReason } : {}),
          },
        });
        return result.count === 1;
      });
    },

    /** Closes the open grant of a consultant on a file if its expiry has passed. */
    async closeLapsed(fileId: string, consultantId: string, now: Date): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
        where: { openKey: openKeyOf(fileId, consultantId), status: 'approved', expiresAt: { lte: now } },
        data: { status: 'expired', wrappedSymmetricKey: null, openKey: null, processedAt: now },
      });
      return result.count === 1;
    },

    /**
     * Takes one download from an approved, unexpired grant with downloads left, in one
     * conditional UPDATE, so two concurrent downloads cannot both take the last one.
     */
    async consumeDownload(id: string, now: Date): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
        where: {
          id,
          status: 'approved',
          wrappedSymmetricKey: { not: null },
          OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
          AND: [{ OR: [{ maxDownloads: null }, { downloadCount: { lt: prisma.accessRequest.fields.maxDownloads } }] }],
        },
        data: { downloadCount: { increment: 1 } },
      });
      return result.count === 1;
    },

    /**
     * Closes a grant whose last download was delivered: status expired (the download
     * count says why) and its wrapped key destroyed, so the consultant can ask again.
     */
    async closeExhausted(id: string, now: Date, delivered?: readonly Notice[]): Promise<boolean> {
      const close = async (db: Tx) =>
        (await db.accessRequest.updateMany({
          where: { id, status: 'approved', maxDownloads: { not: null }, downloadCount: { gte: prisma.accessRequest.fields.maxDownloads } },
          data: { status: 'expired', wrappedSymmetricKey: null, openKey: null, processedAt: now },
        })).count === 1;
      if (!delivered?.length) return close(prisma);
      // The delivered download is the event told of, whether or not it used up the grant.
      return prisma.$transaction(async (tx) => {
        const closed = await close(tx);
        await notify(tx, delivered);
        return closed;
      });
    },

    grantRef: async (id: string): Promise<GrantRef | null> => {
      const row = await prisma.accessRequest.findUnique({ where: { id }, select: grantRefSelect });
      return row ? toGrantRef(row) : null;
    },

    /** Gives a download back when its last byte was never sent (a failure or an abort). */
    refundDownload: (id: string) =>
      prisma.accessRequest.updateMany({ where: { id, downloadCount: { gt: 0 } }, data: { downloadCount: { decrement: 1 } } }),

    /**
     * Revokes, in one statement, every open request (pending, approved, suspended) a
     * consultant holds or that was made on an organization's files; wrapped keys go with it.
     */
    async revokeAllOf(userId: string, processedById: string, now: Date, noticesOf?: (revoked: GrantRef[]) => Notice[]): Promise<number> {
      // processed_by references a user; the operator CLI acts as no user, so it stays empty then.
      const byUser = (await prisma.user.count({ where: { id: processedById } })) > 0;
      const where = { status: { in: ['pending', 'approved', 'suspended'] as AccessRequestStatus[] }, OR: [{ consultantId: userId }, { file: { ownerId: userId } }] };
      const data = { status: 'revoked' as const, wrappedSymmetricKey: null, openKey: null, processedAt: now, processedById: byUser ? processedById : null };
      if (!noticesOf) return (await prisma.accessRequest.updateMany({ where, data })).count;
      return prisma.$transaction(async (tx) => {
        // One statement still; it answers which rows it changed, so exactly those are told of.
        const revoked = await tx.accessRequest.updateManyAndReturn({ where, data, select: { id: true } });
        await notify(tx, noticesOf(await refsOf(tx, revoked.map((r) => r.id))));
        return revoked.length;
      });
    },

    /** Approved grants in force now, held by the user or given on its files. */
    activeGrantCount: (userId: string, now: Date) =>
      prisma.accessRequest.count({
        where: {
          status: 'approved',
          OR: [{ consultantId: userId }, { file: { ownerId: userId } }],
          AND: [{ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }],
        },
      }),

    /**
     * Suspends a consultant's approved grants (wrapped keys destroyed) until the owner
     * approves again; the open key stays, so no second request can be made meanwhile.
     */
    async suspendApprovedOf(
      consultantId: string,
      reason: string,
      now: Date,
      noticesOf: (suspended: GrantRef[]) => Notice[] = () => [],
    ): Promise<Array<{ id: string; fileId: string; ownerId: string }>> {
      return prisma.$transaction(async (tx) => {
        const rows = await tx.accessRequest.findMany({
          where: { consultantId, status: 'approved' },
          select: { id: true, fileId: true, file: { select: { ownerId: true } } },
        });
        if (rows.length === 0) return [];
        await tx.accessRequest.updateMany({
          where: { id: { in: rows.map((r) => r.id) }, status: 'approved' },
          data: { status: 'suspended', wrappedSymmetricKey: null, decisionReason: reason, processedAt: now },
        });
        await notify(tx, noticesOf(await refsOf(tx, rows.map((r) => r.id))));
        return rows.map((r) => ({ id: r.id, fileId: r.fileId, ownerId: r.file.ownerId }));
      });
    },

    /** Approved grants ending within the horizon whose consultant was not told yet. */
    expiringUnnotified: async (now: Date, until: Date, limit: number): Promise<GrantRef[]> =>
      (await prisma.accessRequest.findMany({
        where: { status: 'approved', expiringNotifiedAt: null, expiresAt: { gt: now, lte: until } },
        orderBy: { expiresAt: 'asc' },
        take: limit,
        select: grantRefSelect,
      })).map(toGrantRef),

    /** Compare-and-set: the expiring notice goes out once, whichever replica gets here first. */
    markExpiringNotified: (id: string, now: Date, notices: readonly Notice[]) =>
      withNotices(notices, async (db) =>
        (await db.accessRequest.updateMany({ where: { id, status: 'approved', expiringNotifiedAt: null }, data: { expiringNotifiedAt: now } })).count === 1,
      ),

    /** Approved grants past their expiry that nothing has closed yet. */
    lapsedApproved: async (now: Date, limit: number): Promise<GrantRef[]> =>
      (await prisma.accessRequest.findMany({
        where: { status: 'approved', expiresAt: { lte: now } },
        orderBy: { expiresAt: 'asc' },
        take: limit,
        select: grantRefSelect,
      })).map(toGrantRef),

    /** Closed requests processed before the cutoff (retention). */
    countClosedBefore: (cutoff: Date) =>
      prisma.accessRequest.count({ where: { status: { in: ['denied', 'revoked', 'expired'] }, processedAt: { lt: cutoff } } }),
    deleteClosedBefore: async (cutoff: Date) =>
      (await prisma.accessRequest.deleteMany({ where: { status: { in: ['denied', 'revoked', 'expired'] }, processedAt: { lt: cutoff } } })).count,

    approvedGrantsOf: (consultantId: string, ids?: string[]) =>
      prisma.accessRequest.findMany({
        where: { consultantId, status: 'approved', wrappedSymmetricKey: { not: null }, ...(ids ? { id: { in: ids } } : {}) },
        select: { id: true, consultantId: true, fileId: true, expiresAt: true, wrappedSymmetricKey: true, consultantKeyFingerprint: true },
      }),

    /**
     * Moves an approved grant's wrapped key from one consultant key to another, only if
     * it is still wrapped to `fromFingerprint` (compare-and-set against a rotation).
     */
    async rewrap(id: string, fromFingerprint: string, data: { wrappedSymmetricKey: Buffer; consultantKeyFingerprint: string }): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
        where: { id, status: 'approved', consultantKeyFingerprint: fromFingerprint, wrappedSymmetricKey: { not: null } },
        data: { wrappedSymmetricKey: new Uint8Array(data.wrappedSymmetricKey), consultantKeyFingerprint: data.consultantKeyFingerprint },
      });
      return result.count === 1;
    },

    /** Undoes an approval that could not be kept wrapped to the consultant's current key. */
    async unapprove(id: string, fingerprint: string): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
        where: { id, status: 'approved', consultantKeyFingerprint: fingerprint, downloadCount: 0 },
        data: { status: 'pending', wrappedSymmetricKey: null, consultantKeyFingerprint: null, expiresAt: null, maxDownloads: null, processedAt: null, processedById: null },
      });
      return result.count === 1;
    },
  };
}
export type AccessRequestsRepository = ReturnType<typeof createAccessRequestsRepository>;
