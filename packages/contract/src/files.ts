import Type from 'typebox';
import { Id, Nullable, PageQuery, Page, Timestamp } from './common.ts';

export const FileAlgorithm = Type.Union([
  Type.Literal('aes-256-gcm'),
  Type.Literal('chacha20-poly1305'),
  Type.Literal('des'),
  Type.Literal('rc4'),
]);
export type FileAlgorithm = Type.Static<typeof FileAlgorithm>;
/** The algorithm names, read off the schema (a multipart field is checked by hand, not by Ajv). */
export const FILE_ALGORITHMS: readonly FileAlgorithm[] = Object.freeze(FileAlgorithm.anyOf.map((literal) => literal.const));
export const isFileAlgorithm = (value: string): value is FileAlgorithm => (FILE_ALGORITHMS as readonly string[]).includes(value);

export const AccessStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('suspended'),
  Type.Literal('denied'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);
export type AccessStatus = Type.Static<typeof AccessStatus>;
export const MyAccess = Type.Union([Type.Literal('none'), AccessStatus]);
export type MyAccess = Type.Static<typeof MyAccess>;

export const FileMetadata = Type.Object({
  id: Id,
  filename: Type.String(),
  contentType: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  algorithm: FileAlgorithm,
  description: Nullable(Type.String()),
  ownerId: Id,
  ownerName: Type.String(),
  createdAt: Timestamp,
  /** Consultants only: the state of the caller's latest request for this file. */
  myAccess: Type.Optional(MyAccess),
});
export type FileMetadata = Type.Static<typeof FileMetadata>;

export const ListFilesQuery = Type.Object(
  { ...PageQuery, q: Type.Optional(Type.String({ maxLength: 255 })) },
  { additionalProperties: false },
);
export type ListFilesQuery = Type.Static<typeof ListFilesQuery>;
export const FileList = Page(FileMetadata);
export type FileList = Type.Static<typeof FileList>;

/** Multipart text fields accepted beside the `file` part. */
export const UploadFields = Type.Object(
  {
    algorithm: Type.Optional(FileAlgorithm),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type UploadFields = Type.Static<typeof UploadFields>;
