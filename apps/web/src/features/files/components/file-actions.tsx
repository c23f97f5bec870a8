import type { FileMetadata } from '@sfe/contract';
import { useState } from 'react';
import { Dialog } from '../../../components/ui/dialog.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { ProgressBar } from '../../../components/ui/progress-bar.tsx';
import type { TransferProgress } from '@sfe/api-client';
import { useDeleteFile, useDownloadOwnFile } from '../api/files.ts';

export function DownloadOwnFileButton({ file }: { file: FileMetadata }) {
  const download = useDownloadOwnFile();
  const [progress, setProgress] = useState<TransferProgress | null>(null);
  return (
    <span className="inline-stack">
      <button
        type="button"
        className="button-small"
        disabled={download.isPending}
        aria-label={`Download ${file.filename}`}
        onClick={() => download.mutate({ id: file.id, onProgress: setProgress }, { onSettled: () => setProgress(null) })}
      >
        Download
      </button>
      {download.isPending && progress ? (
        <ProgressBar label={`Download progress for ${file.filename}`} loaded={progress.loaded} total={progress.total} />
      ) : null}
      <ErrorAlert error={download.error} />
    </span>
  );
}

export function DeleteFileButton({ file, onDeleted }: { file: FileMetadata; onDeleted?: () => void }) {
  const remove = useDeleteFile();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="button-small button-danger" onClick={() => setOpen(true)} aria-label={`Delete ${file.filename}`}>
        Delete
      </button>
      {open ? (
        <Dialog title={`Delete ${file.filename}?`} onClose={() => setOpen(false)} busy={remove.isPending}>
          <p>
            This is <strong>irreversible</strong>: the file&apos;s key is destroyed, nobody (including you) can open it again, and
            every open access request for it is revoked.
          </p>
          <ErrorAlert error={remove.error} />
          <div className="row">
            <button type="button" onClick={() => setOpen(false)} disabled={remove.isPending}>
              Keep file
            </button>
            <button
              type="button"
              className="button-danger"
              disabled={remove.isPending}
              onClick={() =>
                remove.mutate(file.id, {
                  onSuccess: () => {
                    setOpen(false);
                    onDeleted?.();
                  },
                })
              }
            >
              Delete permanently
            </button>
          </div>
        </Dialog>
      ) : null}
    </>
  );
}
