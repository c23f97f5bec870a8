import type { AdminUser } from '@sfe/contract';
import { useId, useState } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { saveCertificate, useEraseUser } from '../api/users.ts';
import { ConfirmAction } from './confirm-action.tsx';

/** Right to erasure: confirmed by typing the username, answered by the signed certificate. */
export function EraseUser({ user, onClose }: { user: AdminUser; onClose: () => void }) {
  const erase = useEraseUser();
  const inputId = useId();
  const [typed, setTyped] = useState('');
  const [saveError, setSaveError] = useState<unknown>(null);
  return (
    <ConfirmAction
      title={`Erase ${user.username}`}
      confirmLabel="Erase for good"
      mutation={erase}
      userId={user.id}
      onClose={onClose}
      ready={typed === user.username}
      summary={(certificate) => (
        <>
          <p>
            <strong>{user.username} is erased</strong>, now known as <code>{certificate.pseudonym}</code>. Keep the certificate: it is signed
            with the audit key (key id <code>{certificate.keyId}</code>) and proves what was destroyed.
          </p>
          <pre className="certificate" aria-label="Erasure certificate">
            {JSON.stringify(certificate, null, 2)}
          </pre>
          <button type="button" onClick={() => saveCertificate(certificate).catch(setSaveError)}>
            Download certificate (JSON)
          </button>
          <ErrorAlert error={saveError} title="Not saved." />
        </>
      )}
    >
      <p>This is the right to erasure and cannot be undone:</p>
      <ul>
        <li>the private key of {user.username} is destroyed and every grant revoked;</li>
        {user.role === 'organization' ? <li>every file of {user.username} is crypto-shredded;</li> : null}
        <li>every session ends, and the username is replaced by a pseudonym (audit records keep the id only).</li>
      </ul>
      <div className="field">
        <label htmlFor={inputId}>Type {user.username} to confirm</label>
        <input id={inputId} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} />
      </div>
    </ConfirmAction>
  );
}
