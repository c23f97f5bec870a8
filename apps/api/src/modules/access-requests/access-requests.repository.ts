import type { AccessRequestStatus, Prisma, PrismaClient } from '../../db/client.ts';

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

export function createAccessRequestsRepository(prisma: PrismaClient) {
  return {
    create: (data: { id: string; fileId: string; consultantId: string; reason: string }): Promise<AccessRequestRow> =>
      prisma.accessRequest.create({
        data: { ...data, status: 'pending', openKey: openKeyOf(data.fileId, data.consultantId) },
        select: requestSelect,
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

    /** The latest request of a consultant for each of the given files. */
    async latestStatusByFile(consultantId: string, fileIds: string[]): Promise<Map<string, { status: AccessRequestStatus; expiresAt: Date | null }>> {
      const rows = await prisma.accessRequest.findMany({
        where: { consultantId, fileId: { in: fileIds } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: { fileId: true, status: true, expiresAt: true },
      });
      const latest = new Map<string, { status: AccessRequestStatus; expiresAt: Date | null }>();
      for (const row of rows) if (!latest.has(row.fileId)) latest.set(row.fileId, row);
      return latest;
    },

    /** Compare-and-set on the status: only one concurrent decision can win. */
    async approve(
      id: string,
      data: { wrappedSymmetricKey: Buffer; consultantKeyFingerprint: string; expiresAt: Date | null; maxDownloads: number | null; processedById: string; now: Date },
    ): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
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
        },
      });
      return result.count === 1;
    },

    /** Moves a request from one of `from` to a closed status and destroys its wrapped key. */
    async close(
      id: string,
      from: readonly AccessRequestStatus[],
      to: 'denied' | 'revoked' | 'expired',
      data: { processedById?: string; decisionReason?: string | null; now: Date },
    ): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
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
    async closeExhausted(id: string, now: Date): Promise<boolean> {
      const result = await prisma.accessRequest.updateMany({
        where: { id, status: 'approved', maxDownloads: { not: null }, downloadCount: { gte: prisma.accessRequest.fields.maxDownloads } },
        data: { status: 'expired', wrappedSymmetricKey: null, openKey: null, processedAt: now },
      });
      return result.count === 1;
    },

    /** Gives a download back when its last byte was never sent (a failure or an abort). */
    refundDownload: (id: string) =>
      prisma.accessRequest.updateMany({ where: { id, downloadCount: { gt: 0 } }, data: { downloadCount: { decrement: 1 } } }),

    /**
     * Revokes, in one statement, every open request (pending, approved, suspended) a
     * consultant holds or that was made on an organization's files; wrapped keys go with it.
     */
    async revokeAllOf(userId: string, processedById: string, now: Date): Promise<number> {
      // processed_by references a user; the operator CLI acts as no user, so it stays empty then.
      const byUser = (await prisma.user.count({ where: { id: processedById } })) > 0;
      const result = await prisma.accessRequest.updateMany({
        where: { status: { in: ['pending', 'approved', 'suspended'] }, OR: [{ consultantId: userId }, { file: { ownerId: userId } }] },
        data: { status: 'revoked', wrappedSymmetricKey: null, openKey: null, processedAt: now, processedById: byUser ? processedById : null },
      });
      return result.count;
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
    async suspendApprovedOf(consultantId: string, reason: string, now: Date): Promise<Array<{ id: string; fileId: string; ownerId: string }>> {
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
        return rows.map((r) => ({ id: r.id, fileId: r.fileId, ownerId: r.file.ownerId }));
      });
    },

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
