import type { AccessRequest } from '@sfe/contract';
import { useState } from 'react';
import { ApproveDialog, DenyDialog, RevokeDialog } from './decision-dialogs.tsx';

type Open = 'approve' | 'deny' | 'revoke' | null;

/** Approve / Deny on a pending request, Revoke on an approved grant; a suspended one may be approved again or revoked. */
export function OwnerRequestActions({ request, onDecided }: { request: AccessRequest; onDecided?: (request: AccessRequest) => void }) {
  const [open, setOpen] = useState<Open>(null);
  const close = () => setOpen(null);
  const who = `${request.consultantName} for ${request.filename}`;
  return (
    <>
      {request.status === 'pending' || request.status === 'suspended' ? (
        <button type="button" className="button-small button-primary" onClick={() => setOpen('approve')} aria-label={`Approve ${who}`}>
          Approve
        </button>
      ) : null}
      {request.status === 'pending' ? (
        <button type="button" className="button-small" onClick={() => setOpen('deny')} aria-label={`Deny ${who}`}>
          Deny
        </button>
      ) : null}
      {request.status === 'approved' || request.status === 'suspended' ? (
        <button type="button" className="button-small button-danger" onClick={() => setOpen('revoke')} aria-label={`Revoke ${who}`}>
          Revoke
        </button>
      ) : null}
      {open === 'approve' ? <ApproveDialog request={request} onClose={close} {...(onDecided ? { onDecided } : {})} /> : null}
      {open === 'deny' ? <DenyDialog request={request} onClose={close} /> : null}
      {open === 'revoke' ? <RevokeDialog request={request} onClose={close} /> : null}
    </>
  );
}
