import { Link } from 'react-router';
import { CopyButton } from '../../../components/ui/copy-button.tsx';
import { DataTable } from '../../../components/ui/data-table.tsx';
import { ListStatus } from '../../../components/ui/list-status.tsx';
import { Pager } from '../../../components/ui/pager.tsx';
import { formatBytes, formatDateTime, shortHash } from '../../../lib/format.ts';
import { paths } from '../../../lib/paths.ts';
import { DeleteFileButton, DownloadOwnFileButton } from './file-actions.tsx';
import { SearchBox } from '../../../components/ui/search-box.tsx';
import { usePagedFiles } from './paged-files.ts';

/** The organization's own files: search, pages, hash, download and delete. */
export function OwnerFiles() {
  const { query, pages, onSearch } = usePagedFiles();
  const data = query.data;
  return (
    <section className="card" aria-labelledby="my-files-title">
      <h2 id="my-files-title">Uploaded files</h2>
      <SearchBox label="Search files by name" className="field search" onSearch={onSearch} />
      <ListStatus query={query} loading="Loading files…" empty={data && data.items.length === 0 ? 'No files yet.' : null} />
      {data && data.items.length > 0 ? (
        <DataTable columns={['Name', 'Size', 'Type', 'Uploaded', 'SHA-256', 'Actions']}>
          {data.items.map((file) => (
            <tr key={file.id}>
              <td data-label="Name">
                <Link to={paths.file(file.id)}>{file.filename}</Link>
                {file.description ? <div className="muted">{file.description}</div> : null}
              </td>
              <td data-label="Size">{formatBytes(file.size)}</td>
              <td data-label="Type">{file.contentType}</td>
              <td data-label="Uploaded">{formatDateTime(file.createdAt)}</td>
              <td data-label="SHA-256">
                <code title={file.sha256}>{shortHash(file.sha256)}</code>{' '}
                <CopyButton value={file.sha256} label={`Copy SHA-256 of ${file.filename}`} />
              </td>
              <td data-label="Actions" className="actions">
                <DownloadOwnFileButton file={file} />
                <DeleteFileButton file={file} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <Pager pages={pages} nextCursor={data?.nextCursor} />
    </section>
  );
}
