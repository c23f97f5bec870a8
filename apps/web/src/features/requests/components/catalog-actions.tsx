import type { FileMetadata } from '@sfe/contract';
import { useState } from 'react';
import { useAccessRequests } from '../api/requests.ts';
import { APPROVED_QUERY } from './catalog-grant.tsx';
import { PasswordDialog } from './password-dialog.tsx';
import { RequestAccessDialog } from './request-access-dialog.tsx';

const CAN_REQUEST = new Set(['none', 'denied', 'revoked', 'expired']);

/** What a consultant can do with one catalog file, given the state of their access. */
export function CatalogActions({ file }: { file: FileMetadata }) {
  // The grant is captured when the dialog opens: a refetch of the lists must never
  // unmount a dialog the person is typing into.
  const [open, setOpen] = useState<{ kind: 'request' } | { kind: 'download'; requestId: string } | null>(null);
  const access = file.myAccess ?? 'none';
  // One shared query (same key for every row) maps approved files to their grant.
  const approved = useAccessRequests(APPROVED_QUERY);
  const grant = access === 'approved' ? approved.data?.items.find((r) => r.fileId === file.id) : undefined;
  return (
    <>
      {CAN_REQUEST.has(access) ? (
        <button type="button" className="button-small" onClick={() => setOpen({ kind: 'request' })} aria-label={`Request access to ${file.filename}`}>
          Request access
        </button>
      ) : null}
      {access === 'pending' ? <span className="muted">Waiting for approval</span> : null}
      {grant ? (
        <button type="button" className="button-small button-primary" onClick={() => setOpen({ kind: 'download', requestId: grant.id })} aria-label={`Download ${file.filename}`}>
          Download
        </button>
      ) : null}
      {open?.kind === 'request' ? <RequestAccessDialog fileId={file.id} filename={file.filename} onClose={() => setOpen(null)} /> : null}
      {open?.kind === 'download' ? <PasswordDialog requestId={open.requestId} filename={file.filename} onClose={() => setOpen(null)} /> : null}
    </>
  );
}
