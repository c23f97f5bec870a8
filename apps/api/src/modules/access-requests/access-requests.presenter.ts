import type { AccessRequest, AccessStatus } from '@sfe/contract';
import type { AccessRequestRow } from './access-requests.repository.ts';

export function effectiveStatus(row: Pick<AccessRequestRow, 'status' | 'expiresAt'>, now: Date): AccessStatus {
  if (row.status === 'approved' && row.expiresAt && row.expiresAt <= now) return 'expired';
  return row.status as AccessStatus;
}

export function toAccessRequestDto(row: AccessRequestRow, now = new Date()): AccessRequest {
  return {
    id: row.id,
    fileId: row.fileId,
    filename: row.file.filename,
    consultantId: row.consultantId,
    consultantName: row.consultant.username,
    status: effectiveStatus(row, now),
    reason: row.reason,
    decisionReason: row.decisionReason,
    createdAt: row.createdAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    maxDownloads: row.maxDownloads,
    downloadCount: row.downloadCount,
    downloadsRemaining: row.maxDownloads === null ? null : Math.max(0, row.maxDownloads - row.downloadCount),
    consultantKeyFingerprint: row.consultantKeyFingerprint,
  };
}
