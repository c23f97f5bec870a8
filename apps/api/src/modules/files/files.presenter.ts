import type { FileMetadata, MyAccess } from '@sfe/contract';
import { algorithmName, type FileRow } from './files.repository.ts';

export function toFileDto(row: FileRow, myAccess?: MyAccess): FileMetadata {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.contentType,
    size: Number(row.size),
    sha256: row.sha256,
    algorithm: algorithmName(row.algorithm),
    description: row.description,
    ownerId: row.ownerId,
    ownerName: row.owner.username,
    createdAt: row.createdAt.toISOString(),
    ...(myAccess ? { myAccess } : {}),
  };
}
