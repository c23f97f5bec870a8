import type { AccessRequest, AccessStatus } from '@sfe/contract';
import { useId, useState } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { REQUEST_STATUSES, StatusBadge, StatusLegend } from '../../../components/ui/status-badge.tsx';
import { formatDate, formatDateTime } from '../../../lib/format.ts';
import { useCursorPages } from '../../../lib/use-cursor-pages.ts';
import { useAccessRequests } from '../api/requests.ts';
import { approvalSummary } from './decision-summary.ts';
import { downloadsLeft } from './downloads-left.ts';
import { OwnerRequestActions } from './owner-request-actions.tsx';

const FILTERS: { value: AccessStatus | 'all'; label: string }[] = [
  { value: 'pending', label: 'Pending' },
  { value: 'approved', label: 'Approved' },
  { value: 'suspended', label: 'Suspended' },
  { value: 'denied', label: 'Denied' },
  { value: 'revoked', label: 'Revoked' },
  { value: 'expired', label: 'Expired' },
  { value: 'all', label: 'All' },
];

/** The organization's inbox of requests on its files. */
export function RequestInbox() {
  const filterId = useId();
  const [filter, setFilter] = useState<AccessStatus | 'all'>('pending');
  const pages = useCursorPages(filter);
  // An approved request leaves the pending view at once: say what was granted.
  const [notice, setNotice] = useState<string | null>(null);
  const onDecided = (request: AccessRequest) => setNotice(approvalSummary(request));
  const query = useAccessRequests({
    limit: 50,
    ...(filter === 'all' ? {} : { status: filter }),
    ...(pages.cursor ? { cursor: pages.cursor } : {}),
  });
  const data = query.data;
  return (
    <section className="card" aria-labelledby="inbox-title">
      <h2 id="inbox-title">Access requests</h2>
      <div className="field inline">
        <label htmlFor={filterId}>Show</label>
        <select id={filterId} value={filter} onChange={(e) => setFilter(FILTERS.find((f) => f.value === e.target.value)?.value ?? 'pending')}>
          {FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
      </div>
      <div role="status">
        {notice ? (
          <p className="alert alert-success">
            {notice}{' '}
            {filter !== 'approved' && filter !== 'all' ? (
              <button type="button" className="button-small" onClick={() => setFilter('approved')}>
                Show approved
              </button>
            ) : null}
          </p>
        ) : null}
      </div>
      <ListStatus query={query} loading="Loading requests…" empty={data && data.items.length === 0 ? `No ${filter === 'all' ? '' : `${filter} `}requests.` : null} />
      {data && data.items.length > 0 ? (
        <DataTable columns={['File', 'Consultant', 'Reason', 'Requested', 'Status', 'Expires', 'Downloads left', 'Actions']}>
          {data.items.map((request) => (
            <tr key={request.id} data-request={`${request.consultantName}:${request.filename}`}>
              <td data-label="File">{request.filename}</td>
              <td data-label="Consultant">{request.consultantName}</td>
              <td data-label="Reason" className="reason">
                {request.reason}
              </td>
              <td data-label="Requested">{formatDateTime(request.createdAt)}</td>
              <td data-label="Status">
                <StatusBadge status={request.status} />
              </td>
              <td data-label="Expires">{formatDate(request.expiresAt)}</td>
              <td data-label="Downloads left">{downloadsLeft(request)}</td>
              <td data-label="Actions" className="actions">
                <OwnerRequestActions request={request} onDecided={onDecided} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <StatusLegend statuses={REQUEST_STATUSES} />
      <Pager pages={pages} nextCursor={data?.nextCursor} />
    </section>
  );
}
