import type { AccessRequest } from '@sfe/contract';
import { formatDate } from '../../../lib/format.ts';

/** "Approved: carol can download report.pdf 3 times until 5 Dec 2026." */
export function approvalSummary(request: AccessRequest): string {
  const times =
    request.maxDownloads === null ? 'any number of times' : request.maxDownloads === 1 ? 'once' : `${request.maxDownloads} times`;
  const until = request.expiresAt ? `until ${formatDate(request.expiresAt)}` : 'with no end date';
  return `Approved: ${request.consultantName} can download ${request.filename} ${times} ${until}.`;
}
