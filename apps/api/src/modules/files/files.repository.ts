import { Prisma, type PrismaClient } from '../../db/client.ts';
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

/** What a listing shows: no key material, no blob key. */
export type FileSummaryRow = Pick<FileRow, 'id' | 'ownerId' | 'filename' | 'contentType' | 'size' | 'sha256' | 'algorithm' | 'description' | 'createdAt' | 'owner'>;

interface SummarySqlRow extends Omit<FileSummaryRow, 'owner' | 'size'> {
  size: bigint | number;
  ownerName: string;
}

export interface FileListFilter {
  ownerId?: string;
  q?: string;
  limit: number;
  cursor?: string;
}

export function createFilesRepository(prisma: PrismaClient) {
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

    /**
     * Newest first; the cursor is the id of the last item of the previous page (shredded
     * or not). One statement with the owner joined in: this is the hottest read of the
     * SPA, and a Prisma findMany with its relation cost ~5x the main-thread time.
     */
    async list(filter: FileListFilter): Promise<{ rows: FileSummaryRow[]; nextCursor: string | null }> {
      const owner = filter.ownerId ? Prisma.sql`AND f.owner_id = ${filter.ownerId}` : Prisma.empty;
      const name = filter.q ? Prisma.sql`AND f.filename LIKE ${likeLiteral(filter.q)} ESCAPE '\\'` : Prisma.empty;
      const after = filter.cursor
        ? Prisma.sql`AND EXISTS (SELECT 1 FROM encrypted_files c WHERE c.id = ${filter.cursor}
            AND (f.created_at < c.created_at OR (f.created_at = c.created_at AND f.id < c.id)))`
        : Prisma.empty;
      const found = await prisma.$queryRaw<SummarySqlRow[]>`
        SELECT f.id, f.owner_id AS "ownerId", f.filename, f.content_type AS "contentType", f.size, f.sha256,
          f.algorithm, f.description, f.created_at AS "createdAt", u.username AS "ownerName"
        FROM encrypted_files f JOIN users u ON u.id = f.owner_id
        WHERE f.deleted_at IS NULL ${owner} ${name} ${after}
        ORDER BY f.created_at DESC, f.id DESC
        LIMIT ${filter.limit + 1}`;
      const rows = found.map(({ ownerName, size, ...row }) => ({ ...row, size: BigInt(size), owner: { username: ownerName } }));
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
