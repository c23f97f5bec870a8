import type { FileMetadata } from '@sfe/contract';
import type { ReactNode } from 'react';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { REQUEST_STATUSES, StatusBadge, StatusLegend } from '../../../components/ui/status-badge.tsx';
import { formatBytes, formatDate } from '../../../lib/format.ts';
import { SearchBox } from '../../../components/ui/search-box.tsx';
import { usePagedFiles } from './paged-files.ts';

/**
 * The consultant's catalog. What can be done with a file (request, download) is
 * another feature's business, so the page passes it in as `renderActions`.
 */
export function Catalog({
  renderActions,
  renderAccess,
}: {
  renderActions: (file: FileMetadata) => ReactNode;
  /** What the consultant's access still allows (downloads left, expiry); also another feature's. */
  renderAccess?: (file: FileMetadata) => ReactNode;
}) {
  const { query, pages, onSearch } = usePagedFiles();
  const data = query.data;
  return (
    <section className="card" aria-labelledby="catalog-title">
      <h2 id="catalog-title">Available files</h2>
      <SearchBox label="Search files by name" className="field search" onSearch={onSearch} />
      <ListStatus query={query} loading="Loading files…" empty={data && data.items.length === 0 ? 'No files match.' : null} />
      {data && data.items.length > 0 ? (
        <DataTable columns={['Name', 'Owner', 'Size', 'Type', 'Uploaded', 'Access', 'Actions']}>
          {data.items.map((file) => (
            <tr key={file.id} data-file={file.filename}>
              <td data-label="Name">
                {file.filename}
                {file.description ? <div className="muted">{file.description}</div> : null}
              </td>
              <td data-label="Owner">{file.ownerName}</td>
              <td data-label="Size">{formatBytes(file.size)}</td>
              <td data-label="Type">{file.contentType}</td>
              <td data-label="Uploaded">{formatDate(file.createdAt)}</td>
              <td data-label="Access">
                <StatusBadge status={file.myAccess ?? 'none'} />
                {renderAccess?.(file)}
              </td>
              <td data-label="Actions" className="actions">
                {renderActions(file)}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <StatusLegend statuses={['none', ...REQUEST_STATUSES]} />
      <Pager pages={pages} nextCursor={data?.nextCursor} />
    </section>
  );
}
