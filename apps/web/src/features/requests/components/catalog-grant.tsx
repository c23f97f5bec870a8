import type { FileMetadata } from '@sfe/contract';
import { formatDate } from '../../../lib/format.ts';
import { useAccessRequests } from '../api/requests.ts';

/** The same shared query CatalogActions uses: every row reads one list of grants. */
export const APPROVED_QUERY = { status: 'approved', limit: 200 } as const;

/** Downloads left and expiry of the consultant's grant for one catalog file. */
export function CatalogGrant({ file }: { file: FileMetadata }) {
  const approved = useAccessRequests(APPROVED_QUERY);
  if (file.myAccess !== 'approved') return null;
  if (approved.isPending) return <span className="muted">Loading grant…</span>;
  if (approved.error) return <span className="muted">Grant details unavailable</span>;
  const grant = approved.data.items.find((r) => r.fileId === file.id);
  if (!grant) return null;
  const left = grant.downloadsRemaining === null ? 'Unlimited downloads' : `${grant.downloadsRemaining} download${grant.downloadsRemaining === 1 ? '' : 's'} left`;
  const until = grant.expiresAt ? `until ${formatDate(grant.expiresAt)}` : 'no end date';
  return <div className="muted">{`${left}, ${until}`}</div>;
}
