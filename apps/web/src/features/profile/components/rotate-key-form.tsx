import type { KeySize } from '@sfe/contract';
import { isApiError } from '@sfe/api-client';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { describeError, fieldError } from '../../../lib/errors.ts';
import { fingerprintGroups } from '../../../lib/format.ts';
import { useRotateKeys } from '../api/profile.ts';

export function RotateKeyForm() {
  const rotate = useRotateKeys();
  const [password, setPassword] = useState('');
  const [keySize, setKeySize] = useState<KeySize>(2048);
  const err = rotate.error;
  const passwordError = fieldError(err, 'password') ?? (isApiError(err) && err.code === 'WRONG_PASSWORD' ? describeError(err).message : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    rotate.mutate({ password, keySize }, { onSettled: () => setPassword('') });
  }

  return (
    <section className="card" aria-labelledby="rotate-title">
      <h2 id="rotate-title">Rotate key pair</h2>
      <p>Creates a new key pair. Access you were granted is re-wrapped to the new key automatically.</p>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={passwordError} />
        <fieldset>
          <legend>New key size</legend>
          <label className="choice">
            <input type="radio" name="rotateKeySize" checked={keySize === 2048} onChange={() => setKeySize(2048)} />
            2048-bit RSA
          </label>
          <label className="choice">
            <input type="radio" name="rotateKeySize" checked={keySize === 4096} onChange={() => setKeySize(4096)} />
            4096-bit RSA (slower to create)
          </label>
        </fieldset>
        <ErrorAlert error={passwordError ? null : err} />
        {rotate.data ? (
          <p role="status">
            New key created, fingerprint {fingerprintGroups(rotate.data.fingerprint).join(' ')}. {rotate.data.rewrappedGrants}{' '}
            {rotate.data.rewrappedGrants === 1 ? 'grant was' : 'grants were'} re-wrapped to it.
          </p>
        ) : null}
        <button type="submit" className="button-primary" disabled={rotate.isPending || password === ''}>
          {rotate.isPending ? <Spinner label="Creating your new key pair…" /> : 'Rotate key pair'}
        </button>
      </form>
    </section>
  );
}
