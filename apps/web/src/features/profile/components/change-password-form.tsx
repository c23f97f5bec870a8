import { PASSWORD_MIN_LENGTH, isApiError } from '@sfe/api-client';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { describeError, fieldError } from '../../../lib/errors.ts';
import { useChangePassword } from '../api/profile.ts';

const CURRENT_PASSWORD_CODES = new Set(['WRONG_PASSWORD', 'INVALID_CREDENTIALS']);

export function ChangePasswordForm() {
  const change = useChangePassword();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const err = change.error;
  const currentError =
    fieldError(err, 'currentPassword') ?? (isApiError(err) && CURRENT_PASSWORD_CODES.has(err.code) ? describeError(err).message : undefined);
  const newError = fieldError(err, 'newPassword');

  function submit(event: FormEvent) {
    event.preventDefault();
    if (newPassword !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    change.mutate(
      { currentPassword, newPassword },
      {
        onSettled: () => {
          setCurrent('');
          setNew('');
          setConfirm('');
        },
      },
    );
  }

  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Current password" type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} error={currentError} />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
          hint={`At least ${PASSWORD_MIN_LENGTH} characters. Your private key is re-encrypted under it.`}
          error={newError}
        />
        <Field
          label="Repeat new password"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          error={mismatch ? 'The two new passwords differ.' : undefined}
        />
        <ErrorAlert error={currentError || newError ? null : err} />
        {change.isSuccess ? <p role="status">Password changed. Your other sessions were signed out.</p> : null}
        <button type="submit" className="button-primary" disabled={change.isPending}>
          {change.isPending ? <Spinner label="Changing password…" /> : 'Change password'}
        </button>
      </form>
    </section>
  );
}
