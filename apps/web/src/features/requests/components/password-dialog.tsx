import type { TransferProgress } from '@sfe/api-client';
import { isAbortError } from '@sfe/api-client';
import { useRef, useState, type FormEvent } from 'react';
import { Dialog } from '../../../components/ui/dialog.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { ProgressBar } from '../../../components/ui/progress-bar.tsx';
import { useDownloadGrant } from '../api/requests.ts';

interface PasswordDialogProps {
  requestId: string;
  filename: string;
  onClose: () => void;
}

type Phase = { kind: 'idle' } | { kind: 'downloading'; progress: TransferProgress | null } | { kind: 'done'; toDisk: boolean };

/**
 * Asks for the account password to unlock the private key for one download. The
 * password lives in this component's state only until the request is sent, goes
 * in the POST body (never a URL) and is never written to any browser storage.
 */
export function PasswordDialog({ requestId, filename, onClose }: PasswordDialogProps) {
  const downloadGrant = useDownloadGrant();
  const [password, setPassword] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [error, setError] = useState<unknown>(null);
  const controller = useRef<AbortController | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!password || phase.kind === 'downloading') return;
    const secret = password;
    setPassword('');
    setError(null);
    setPhase({ kind: 'downloading', progress: null });
    controller.current = new AbortController();
    try {
      const outcome = await downloadGrant({
        requestId,
        password: secret,
        signal: controller.current.signal,
        onProgress: (progress) => setPhase({ kind: 'downloading', progress }),
      });
      setPhase(outcome === 'cancelled' ? { kind: 'idle' } : { kind: 'done', toDisk: outcome === 'saved-to-disk' });
    } catch (caught) {
      setPhase({ kind: 'idle' });
      if (!isAbortError(caught)) setError(caught);
    } finally {
      controller.current = null;
    }
  }

  const downloading = phase.kind === 'downloading';
  return (
    <Dialog title={`Download ${filename}`} onClose={onClose} busy={downloading}>
      {phase.kind === 'done' ? (
        <div className="stack">
          <p role="status">Download complete{phase.toDisk ? ': the file was saved where you chose.' : '.'}</p>
          <button type="button" onClick={onClose} data-autofocus>
            Close
          </button>
        </div>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="stack" noValidate>
          <p>Enter your account password. It unlocks your private key on the server for this one download.</p>
          <Field
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            disabled={downloading}
            required
            data-autofocus
          />
          {phase.kind === 'downloading' ? (
            phase.progress ? (
              <ProgressBar label={`Download progress for ${filename}`} loaded={phase.progress.loaded} total={phase.progress.total} />
            ) : (
              <p role="status">Checking password and decrypting…</p>
            )
          ) : null}
          <ErrorAlert error={error} />
          <div className="row">
            {downloading ? (
              <button type="button" onClick={() => controller.current?.abort()}>
                Cancel download
              </button>
            ) : (
              <button type="button" onClick={onClose}>
                Close
              </button>
            )}
            <button type="submit" className="button-primary" disabled={downloading || password === ''}>
              Download
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
