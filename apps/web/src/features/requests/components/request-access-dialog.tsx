import { useId, useState, type FormEvent } from 'react';
import { Dialog } from '../../../components/ui/dialog.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { fieldError } from '../../../lib/errors.ts';
import { useCreateAccessRequest } from '../api/requests.ts';

export function RequestAccessDialog({ fileId, filename, onClose }: { fileId: string; filename: string; onClose: () => void }) {
  const create = useCreateAccessRequest();
  const [reason, setReason] = useState('');
  const [empty, setEmpty] = useState(false);
  const id = useId();
  const reasonError = empty ? 'Please say why you need this file.' : fieldError(create.error, 'reason');

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setEmpty(true);
      return;
    }
    setEmpty(false);
    create.mutate({ fileId, reason: reason.trim() }, { onSuccess: onClose });
  }

  return (
    <Dialog title={`Request access to ${filename}`} onClose={onClose} busy={create.isPending}>
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={id}>Reason</label>
          <textarea
            id={id}
            value={reason}
            rows={3}
            maxLength={2000}
            required
            aria-invalid={reasonError ? true : undefined}
            aria-describedby={reasonError ? `${id}-error` : undefined}
            onChange={(e) => setReason(e.target.value)}
          />
          {reasonError ? (
            <p id={`${id}-error`} className="field-error" role="alert">
              {reasonError}
            </p>
          ) : null}
        </div>
        <ErrorAlert error={reasonError ? null : create.error} />
        <div className="row">
          <button type="button" onClick={onClose} disabled={create.isPending}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={create.isPending}>
            Request access
          </button>
        </div>
      </form>
    </Dialog>
  );
}
