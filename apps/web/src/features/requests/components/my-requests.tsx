import type { AccessRequest } from '@sfe/contract';
import { useState } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { REQUEST_STATUSES, StatusBadge, StatusLegend } from '../../../components/ui/status-badge.tsx';
import { formatDate, formatDateTime } from '../../../lib/format.ts';
import { useCursorPages } from '../../../lib/use-cursor-pages.ts';
import { useAccessRequests } from '../api/requests.ts';
import { downloadsLeft } from './downloads-left.ts';
import { PasswordDialog } from './password-dialog.tsx';

/** The consultant's own requests, with what each still allows. */
export function MyRequests() {
  const pages = useCursorPages('');
  const query = useAccessRequests({ limit: 50, ...(pages.cursor ? { cursor: pages.cursor } : {}) });
  const [downloading, setDownloading] = useState<AccessRequest | null>(null);
  const data = query.data;
  return (
    <section className="card" aria-labelledby="my-requests-title">
      <h2 id="my-requests-title">Requests and grants</h2>
      <ListStatus query={query} loading="Loading requests…" empty={data && data.items.length === 0 ? 'You have not requested any file yet. Find one in the catalog.' : null} />
      {data && data.items.length > 0 ? (
        <DataTable columns={['File', 'Status', 'Your reason', 'Requested', 'Expires', 'Downloads left', 'Note from owner', 'Actions']}>
          {data.items.map((request) => (
            <tr key={request.id} data-request={request.filename}>
              <td data-label="File">{request.filename}</td>
              <td data-label="Status">
                <StatusBadge status={request.status} />
              </td>
              <td data-label="Your reason" className="reason">
                {request.reason}
              </td>
              <td data-label="Requested">{formatDateTime(request.createdAt)}</td>
              <td data-label="Expires">{formatDate(request.expiresAt)}</td>
              <td data-label="Downloads left">{downloadsLeft(request)}</td>
              <td data-label="Note from owner">{request.decisionReason ?? '—'}</td>
              <td data-label="Actions" className="actions">
                {request.status === 'approved' ? (
                  <button type="button" className="button-small button-primary" onClick={() => setDownloading(request)} aria-label={`Download ${request.filename}`}>
                    Download
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <StatusLegend statuses={REQUEST_STATUSES} />
      <Pager pages={pages} nextCursor={data?.nextCursor} />
      {downloading ? <PasswordDialog requestId={downloading.id} filename={downloading.filename} onClose={() => setDownloading(null)} /> : null}
    </section>
  );
}
