import type { FileAlgorithm } from '@sfe/crypto';
import { Prisma, type EncryptionAlgorithm, type PrismaClient } from '../../db/client.ts';
import { limitLiteral, readRows, toIsoInstant } from '../../db/direct-read.ts';
import { likeLiteral } from '../../lib/like.ts';
import { notices } from '../notifications/notifications.messages.ts';
import type { NoticeWriter } from '../notifications/notifications.repository.ts';

/**
 * The algorithm column holds @sfe/crypto's names ("aes-256-gcm"); Prisma enum values
 * must be identifiers, so the schema maps each one and the client speaks in those.
 */
const ENUM_OF: Readonly<Record<FileAlgorithm, EncryptionAlgorithm>> = {
  'aes-256-gcm': 'aes_256_gcm',
  'chacha20-poly1305': 'chacha20_poly1305',
  des: 'des',
  rc4: 'rc4',
};
const NAME_OF = Object.fromEntries(Object.entries(ENUM_OF).map(([name, value]) => [value, name])) as Record<EncryptionAlgorithm, FileAlgorithm>;
export const algorithmName = (algorithm: EncryptionAlgorithm): FileAlgorithm => NAME_OF[algorithm] as FileAlgorithm;

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
} as const satisfies Prisma.EncryptedFileSelect;

export type FileRow = Prisma.EncryptedFileGetPayload<{ select: typeof fileSelect }>;

/** What a listing shows of a file: no key material, no blob key. */
export interface FileSummary {
  id: string;
  ownerId: string;
  ownerName: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  algorithm: FileAlgorithm;
  description: string | null;
  /** ISO 8601, as the API shows it. */
  createdAt: string;
}

export const summaryOf = (row: FileRow): FileSummary => ({
  id: row.id,
  ownerId: row.ownerId,
  ownerName: row.owner.username,
  filename: row.filename,
  contentType: row.contentType,
  size: Number(row.size),
  sha256: row.sha256,
  algorithm: algorithmName(row.algorithm),
  description: row.description,
  createdAt: row.createdAt.toISOString(),
});

/**
 * A listing row off the file-list statement's columns, in its SELECT order. An
 * organization's own list names no owner columns (every row's owner is the caller).
 */
function summaryOfColumns(owner: FileListFilter['owner']): (values: unknown[]) => FileSummary {
  const summary = (values: unknown[], at: number, ownerId: string, ownerName: string): FileSummary => ({
    id: values[0] as string,
    ownerId,
    ownerName,
    filename: values[at] as string,
    contentType: values[at + 1] as string,
    size: Number(values[at + 2]),
    sha256: values[at + 3] as string,
    // The enum's mapped name, as stored: the name @sfe/crypto uses.
    algorithm: values[at + 4] as FileAlgorithm,
    description: values[at + 5] as string | null,
    createdAt: toIsoInstant(values[at + 6]),
  });
  if (owner) return (values) => summary(values, 1, owner.id, owner.username);
  return (values) => summary(values, 3, values[1] as string, values[2] as string);
}

/** Where an owner's page has its list version: after the id and the seven listed columns. */
const OWNER_LIST_VERSION_COLUMN = 8;

export interface FileListFilter {
  /** One owner's files only; the owner's name is then not read for every row. */
  owner?: { id: string; username: string };
  q?: string;
  limit: number;
  cursor?: string;
}

/**
 * One page of the file list as one statement for the hot-path reader (direct-read.ts),
 * the owner's name joined (unless the list is one owner's), read in the order of an
 * index (owner, created_at, id) or (created_at, id): never a sort of every file. The name filter is
 * `LOWER(filename) LIKE LOWER(pattern)` with the pattern's _ and % escaped: SQLite's
 * LIKE folds ASCII case and PostgreSQL's folds none, so both sides are folded; Prisma's
 * `contains` would pass _ and % through as wildcards.
 */
export function fileListQuery(filter: FileListFilter): Prisma.Sql {
  const conditions = [Prisma.sql`f.deleted_at IS NULL`];
  if (filter.owner) conditions.push(Prisma.sql`f.owner_id = ${filter.owner.id}`);
  if (filter.q) conditions.push(Prisma.sql`LOWER(f.filename) LIKE LOWER(${likeLiteral(filter.q)}) ESCAPE '\\'`);
  if (filter.cursor) {
    conditions.push(Prisma.sql`(f.created_at, f.id) < (SELECT c.created_at, c.id FROM encrypted_files c WHERE c.id = ${filter.cursor})`);
  }
  const columns = Prisma.sql`f.filename, f.content_type, f.size, f.sha256, f.algorithm, f.description, f.created_at`;
  // One owner's page also reads the owner's list version, in the same statement (one
  // snapshot), so the version it is kept under is the version of exactly these rows.
  const from = filter.owner
    ? Prisma.sql`SELECT f.id, ${columns}, (SELECT v.version FROM file_list_versions v WHERE v.owner_id = ${filter.owner.id}) FROM encrypted_files f`
    : Prisma.sql`SELECT f.id, f.owner_id, u.username, ${columns} FROM encrypted_files f JOIN users u ON u.id = f.owner_id`;
  return Prisma.sql`
    ${from}
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY f.created_at DESC, f.id DESC
    LIMIT ${limitLiteral(filter.limit + 1)}`;
}

/** `notify`: consultants whose requests a deletion closes are told in the deletion's transaction. */
export function createFilesRepository(prisma: PrismaClient, notify: NoticeWriter = async () => {}) {
  return {
    create: (data: Omit<FileSummary, 'ownerName' | 'createdAt'> & {
      blobKey: string;
      wrappedKey: Buffer;
      wrappedKeyVersion: number;
      kekId: string;
    }): Promise<FileRow> =>
      prisma.encryptedFile.create({
        data: { ...data, algorithm: ENUM_OF[data.algorithm], size: BigInt(data.size), wrappedKey: new Uint8Array(data.wrappedKey) },
        select: fileSelect,
      }),

    /** A live (not shredded) file. */
    findLive: (id: string): Promise<FileRow | null> =>
      prisma.encryptedFile.findFirst({ where: { id, deletedAt: null }, select: fileSelect }),

    /**
     * Newest first; the cursor is the id of the last item of the previous page. An owner's
     * page comes with the owner's list version as the statement read it (null for other
     * lists, an empty page, or an owner whose files have not changed since versions began).
     */
    async list(filter: FileListFilter): Promise<{ rows: FileSummary[]; nextCursor: string | null; version: string | null }> {
      const summary = summaryOfColumns(filter.owner);
      let version: string | null = null;
      const rows = await readRows(prisma, fileListQuery(filter), (values) => {
        // The same value on every row: the subquery's, read with them.
        if (filter.owner) version = (values[OWNER_LIST_VERSION_COLUMN] as string | null) ?? null;
        return summary(values);
      });
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      return { rows: page, nextCursor: more ? (page.at(-1)?.id ?? null) : null, version };
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
        const revoked = await tx.accessRequest.updateManyAndReturn({
          where: { fileId: id, status: { in: ['pending', 'approved', 'suspended'] } },
          data: { status: 'revoked', wrappedSymmetricKey: null, openKey: null, processedAt: now },
          select: { id: true, consultantId: true, file: { select: { filename: true } } },
        });
        await notify(
          tx,
          revoked.map((r) => notices.fileDeleted({ requestId: r.id, fileId: id, filename: r.file.filename, consultantId: r.consultantId })),
        );
        return { revokedRequests: revoked.length };
      });
    },
  };
}
export type FilesRepository = ReturnType<typeof createFilesRepository>;
