import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { REQUEST_STATUSES, StatusBadge, StatusLegend } from '../../../components/ui/status-badge.tsx';
import { formatDate, formatDateTime } from '../../../lib/format.ts';
import { useAccessRequests } from '../api/requests.ts';
import { downloadsLeft } from './downloads-left.ts';
import { OwnerRequestActions } from './owner-request-actions.tsx';

/** Who has (or asked for) access to one file: the per-file view for its owner. */
export function FileAccessList({ fileId }: { fileId: string }) {
  const query = useAccessRequests({ fileId, limit: 200 });
  const items = query.data?.items ?? [];
  return (
    <section className="card" aria-labelledby="access-title">
      <h2 id="access-title">Who has access</h2>
      <ListStatus query={query} loading="Loading…" empty={query.data && items.length === 0 ? 'Nobody has asked for this file yet.' : null} />
      {items.length > 0 ? (
        <DataTable columns={['Consultant', 'Status', 'Since', 'Expires', 'Downloads used / left', 'Key fingerprint', 'Actions']}>
          {items.map((request) => (
            <tr key={request.id}>
              <td data-label="Consultant">{request.consultantName}</td>
              <td data-label="Status">
                <StatusBadge status={request.status} />
              </td>
              <td data-label="Since">{formatDateTime(request.processedAt ?? request.createdAt)}</td>
              <td data-label="Expires">{formatDate(request.expiresAt)}</td>
              <td data-label="Downloads">
                {request.downloadCount} / {downloadsLeft(request)}
              </td>
              <td data-label="Key fingerprint">
                <code className="wrap">{request.consultantKeyFingerprint ?? '—'}</code>
              </td>
              <td data-label="Actions" className="actions">
                <OwnerRequestActions request={request} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <StatusLegend statuses={REQUEST_STATUSES} />
    </section>
  );
}
