import { MAX_DOWNLOADS_LIMIT } from '@sfe/api-client';
import type { AccessRequest, ApproveBody } from '@sfe/contract';
import { useId, useState, type FormEvent } from 'react';
import { Dialog } from '../../../components/ui/dialog.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Fingerprint } from '../../../components/ui/fingerprint.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { fieldError } from '../../../lib/errors.ts';
import { useApproveRequest, useDenyRequest, usePublicKey, useRevokeRequest } from '../api/requests.ts';

interface DecisionProps {
  request: AccessRequest;
  onClose: () => void;
  /** Told the request as the API answered it, so the screen can say what happened. */
  onDecided?: (request: AccessRequest) => void;
}

/** The consultant's key fingerprint in groups of four, to compare over the phone before approving. */
function ConsultantKey({ request }: { request: AccessRequest }) {
  const key = usePublicKey(request.consultantId);
  if (key.isPending) return <Spinner label={`Loading ${request.consultantName}'s key…`} />;
  if (key.error) return <ErrorAlert title={`${request.consultantName}'s key could not be loaded.`} error={key.error} />;
  return (
    <dl className="details">
      <dt>{request.consultantName}&apos;s key</dt>
      <dd>{key.data.algorithm}</dd>
      <dt>Fingerprint</dt>
      <dd>
        <Fingerprint value={key.data.fingerprint} />
      </dd>
    </dl>
  );
}

/** The end of the chosen local day, so "expires on the 12th" includes the 12th. */
function endOfDayIso(date: string): string {
  return new Date(`${date}T23:59:59`).toISOString();
}

export function ApproveDialog({ request, onClose, onDecided }: DecisionProps) {
  const approve = useApproveRequest();
  const [expiresOn, setExpiresOn] = useState('');
  const [limit, setLimit] = useState('');
  const [localError, setLocalError] = useState<{ field: 'expiresAt' | 'maxDownloads'; message: string } | null>(null);
  const today = new Date().toISOString().slice(0, 10);

  function submit(event: FormEvent) {
    event.preventDefault();
    const body: ApproveBody = {};
    if (expiresOn) {
      const expiresAt = endOfDayIso(expiresOn);
      if (Date.parse(expiresAt) <= Date.now()) {
        setLocalError({ field: 'expiresAt', message: 'Choose a date in the future.' });
        return;
      }
      body.expiresAt = expiresAt;
    }
    if (limit) {
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > MAX_DOWNLOADS_LIMIT) {
        setLocalError({ field: 'maxDownloads', message: `Enter a whole number from 1 to ${MAX_DOWNLOADS_LIMIT}.` });
        return;
      }
      body.maxDownloads = n;
    }
    setLocalError(null);
    approve.mutate(
      { id: request.id, body },
      {
        onSuccess: (approved) => {
          onDecided?.(approved);
          onClose();
        },
      },
    );
  }

  const err = approve.error;
  const inline = (field: 'expiresAt' | 'maxDownloads') => (localError?.field === field ? localError.message : fieldError(err, field));
  return (
    <Dialog title={`Approve ${request.consultantName}'s request for ${request.filename}`} onClose={onClose} busy={approve.isPending}>
      <form onSubmit={submit} className="stack" noValidate>
        <p>The file&apos;s key will be wrapped to {request.consultantName}&apos;s public key below. Leave both fields empty for access without limits.</p>
        <ConsultantKey request={request} />
        <Field label="Expiry date (optional)" type="date" min={today} value={expiresOn} onChange={(e) => setExpiresOn(e.target.value)} error={inline('expiresAt')} />
        <Field
          label="Download limit (optional)"
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_DOWNLOADS_LIMIT}
          value={limit}
          onChange={(e) => setLimit(e.target.value)}
          error={inline('maxDownloads')}
        />
        <ErrorAlert error={err && !inline('expiresAt') && !inline('maxDownloads') ? err : null} />
        <div className="row">
          <button type="button" onClick={onClose} disabled={approve.isPending}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={approve.isPending}>
            Approve
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function DenyDialog({ request, onClose }: DecisionProps) {
  const deny = useDenyRequest();
  const [reason, setReason] = useState('');
  const reasonId = useId();
  function submit(event: FormEvent) {
    event.preventDefault();
    deny.mutate({ id: request.id, body: reason.trim() ? { reason: reason.trim() } : {} }, { onSuccess: onClose });
  }
  return (
    <Dialog title={`Deny ${request.consultantName}'s request for ${request.filename}`} onClose={onClose} busy={deny.isPending}>
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={reasonId}>Reason (optional)</label>
          <textarea id={reasonId} value={reason} maxLength={2000} rows={3} onChange={(e) => setReason(e.target.value)} />
        </div>
        <ErrorAlert error={deny.error} />
        <div className="row">
          <button type="button" onClick={onClose} disabled={deny.isPending}>
            Cancel
          </button>
          <button type="submit" className="button-danger" disabled={deny.isPending}>
            Deny
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function RevokeDialog({ request, onClose }: DecisionProps) {
  const revoke = useRevokeRequest();
  return (
    <Dialog title={`Revoke ${request.consultantName}'s access to ${request.filename}?`} onClose={onClose} busy={revoke.isPending}>
      <p>The wrapped key is deleted at once: {request.consultantName} can no longer download this file.</p>
      <ErrorAlert error={revoke.error} />
      <div className="row">
        <button type="button" onClick={onClose} disabled={revoke.isPending}>
          Cancel
        </button>
        <button type="button" className="button-danger" disabled={revoke.isPending} onClick={() => revoke.mutate(request.id, { onSuccess: onClose })}>
          Revoke
        </button>
      </div>
    </Dialog>
  );
}
