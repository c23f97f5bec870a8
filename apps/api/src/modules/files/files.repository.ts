import type { PrismaClient } from '../../db/client.ts';
import { likeLiteral } from '../../lib/like.ts';

export interface FileRow {
  id: string;
  ownerId: string;
  filename: string;
  contentType: string;
  size: bigint;
  sha256: string;
  algorithm: string;
  description: string | null;
  blobKey: string;
  wrappedKey: Uint8Array | null;
  kekId: string | null;
  createdAt: Date;
  deletedAt: Date | null;
  owner: { username: string };
}

const fileSelect = {
  id: true,
  ownerId: true,
  filename: true,
  contentType: true,
  size: true,
  sha256: true,
  algorithm: true,
  description: true,
  blobKey: true,
  wrappedKey: true,
  kekId: true,
  createdAt: true,
  deletedAt: true,
  owner: { select: { username: true } },
} as const;

export interface FileListFilter {
  ownerId?: string;
  q?: string;
  limit: number;
  cursor?: string;
}

/** `text` as a LIKE pattern that matches it literally (with ESCAPE '\\'): _ and % are characters, not wildcards. */

export function createFilesRepository(prisma: PrismaClient) {
  /**
   * Ids of live files whose name contains `q` (ASCII case folded, like SQLite's LIKE).
   * Prisma's `contains` passes _ and % through as wildcards, so this one filter is SQL.
   */
  async function idsWithNameContaining(q: string, ownerId: string | undefined): Promise<string[]> {
    const rows = await prisma.$queryRaw<Array<{ id: string }>>`
      SELECT id FROM encrypted_files
      WHERE deleted_at IS NULL AND filename LIKE ${likeLiteral(q)} ESCAPE '\\'
        AND (${ownerId ?? null} IS NULL OR owner_id = ${ownerId ?? null})`;
    return rows.map((row) => row.id);
  }

  return {
    create: (data: {
      id: string;
      ownerId: string;
      filename: string;
      contentType: string;
      size: number;
      sha256: string;
      algorithm: string;
      description: string | null;
      blobKey: string;
      wrappedKey: Buffer;
      wrappedKeyVersion: number;
      kekId: string;
    }): Promise<FileRow> =>
      prisma.encryptedFile.create({
        data: { ...data, size: BigInt(data.size), wrappedKey: new Uint8Array(data.wrappedKey) },
        select: fileSelect,
      }),

    /** A live (not shredded) file. */
    findLive: (id: string): Promise<FileRow | null> =>
      prisma.encryptedFile.findFirst({ where: { id, deletedAt: null }, select: fileSelect }),

    /** Newest first; the cursor is the id of the last item of the previous page. */
    async list(filter: FileListFilter): Promise<{ rows: FileRow[]; nextCursor: string | null }> {
      const rows = await prisma.encryptedFile.findMany({
        where: {
          deletedAt: null,
          ...(filter.ownerId ? { ownerId: filter.ownerId } : {}),
          ...(filter.q ? { id: { in: await idsWithNameContaining(filter.q, filter.ownerId) } } : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: filter.limit + 1,
        ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
        select: fileSelect,
      });
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      return { rows: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null };
    },

    exists: async (id: string) => (await prisma.encryptedFile.count({ where: { id } })) > 0,

    liveIdsOf: async (ownerId: string) =>
      (await prisma.encryptedFile.findMany({ where: { ownerId, deletedAt: null }, select: { id: true, blobKey: true } })),

    /** Shredded tombstones older than the cutoff that no request refers to any more. */
    countTombstonesBefore: (cutoff: Date) =>
      prisma.encryptedFile.count({ where: { deletedAt: { lt: cutoff }, requests: { none: {} } } }),
    deleteTombstonesBefore: async (cutoff: Date) =>
      (await prisma.encryptedFile.deleteMany({ where: { deletedAt: { lt: cutoff }, requests: { none: {} } } })).count,

    isBlobReferenced: async (blobKey: string) =>
      (await prisma.encryptedFile.count({ where: { blobKey, deletedAt: null } })) > 0,

    /**
     * Crypto-shredding: the wrapped DEK is destroyed and every open request on the file
     * is revoked (with its consultant-wrapped DEK) in one transaction. The row stays as
     * a tombstone so requests and audit records keep their history.
     */
    async shred(id: string, now: Date): Promise<{ revokedRequests: number } | null> {
      return prisma.$transaction(async (tx) => {
        const updated = await tx.encryptedFile.updateMany({
          where: { id, deletedAt: null },
          data: { deletedAt: now, wrappedKey: null, kekId: null, encryptionKey: null },
        });
        if (updated.count === 0) return null;
        const revoked = await tx.accessRequest.updateMany({
          where: { fileId: id, status: { in: ['pending', 'approved', 'suspended'] } },
          data: { status: 'revoked', wrappedSymmetricKey: null, openKey: null, processedAt: now },
        });
        return { revokedRequests: revoked.count };
      });
    },
  };
}
export type FilesRepository = ReturnType<typeof createFilesRepository>;
