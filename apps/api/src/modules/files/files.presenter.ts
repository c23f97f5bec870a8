import type { FileMetadata, MyAccess } from '@sfe/contract';
import type { FileSummary } from './files.repository.ts';

export function toFileDto(row: FileSummary, myAccess?: MyAccess): FileMetadata {
  const dto: FileMetadata = {
    id: row.id,
    filename: row.filename,
    contentType: row.contentType,
    size: row.size,
    sha256: row.sha256,
    algorithm: row.algorithm,
    description: row.description,
    ownerId: row.ownerId,
    ownerName: row.ownerName,
    createdAt: row.createdAt,
  };
  if (myAccess) dto.myAccess = myAccess;
  return dto;
}
