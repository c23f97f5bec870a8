import type { FileAlgorithm, FileMetadata, MyAccess } from '@sfe/contract';
import type { FileSummaryRow } from './files.repository.ts';

export function toFileDto(row: FileSummaryRow, myAccess?: MyAccess): FileMetadata {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.contentType,
    size: Number(row.size),
    sha256: row.sha256,
    algorithm: row.algorithm as FileAlgorithm,
    description: row.description,
    ownerId: row.ownerId,
    ownerName: row.owner.username,
    createdAt: row.createdAt.toISOString(),
    ...(myAccess ? { myAccess } : {}),
  };
}
