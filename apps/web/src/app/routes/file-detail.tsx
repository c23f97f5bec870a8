import { useNavigate, useParams, Link } from 'react-router';
import { ErrorAlert } from '../../components/ui/error-alert.tsx';
import { Spinner } from '../../components/ui/spinner.tsx';
import { useFile } from '../../features/files/api/files.ts';
import { DeleteFileButton, DownloadOwnFileButton } from '../../features/files/components/file-actions.tsx';
import { FileDetails } from '../../features/files/components/file-details.tsx';
import { FileAccessList } from '../../features/requests/components/file-access-list.tsx';
import { paths } from '../../lib/paths.ts';
import { useUser } from '../../lib/session-context.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function FileDetailPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const navigate = useNavigate();
  const file = useFile(id);
  usePageTitle(file.data?.filename ?? 'File');
  if (file.isPending) return <Spinner label="Loading file…" />;
  if (file.error) {
    return (
      <>
        <h1>File</h1>
        <ErrorAlert error={file.error} />
        <Link to={paths.files}>Back to files</Link>
      </>
    );
  }
  const owner = user.id === file.data.ownerId;
  return (
    <>
      <p>
        <Link to={paths.files}>← Back to files</Link>
      </p>
      <h1>{file.data.filename}</h1>
      <section className="card">
        <FileDetails file={file.data} />
        {owner ? (
          <div className="row">
            <DownloadOwnFileButton file={file.data} />
            <DeleteFileButton file={file.data} onDeleted={() => void navigate(paths.files)} />
          </div>
        ) : null}
      </section>
      {owner || user.role === 'admin' ? <FileAccessList fileId={file.data.id} /> : null}
    </>
  );
}
