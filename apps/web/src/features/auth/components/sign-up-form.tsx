import { PASSWORD_MIN_LENGTH } from '@sfe/api-client';
import type { KeySize, RegisterBody } from '@sfe/contract';
import { isApiError } from '@sfe/api-client';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { fieldError } from '../../../lib/errors.ts';
import { useSignUp } from '../api/auth.ts';

type RegisterRole = RegisterBody['role'];

export function SignUpForm() {
  const signUp = useSignUp();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<RegisterRole>('organization');
  const [keySize, setKeySize] = useState<KeySize>(2048);
  const error = signUp.error;
  const usernameError = fieldError(error, 'username') ?? (isApiError(error) && error.code === 'CONFLICT' ? 'This username is taken.' : undefined);
  const shownInline = usernameError !== undefined || (isApiError(error) && error.fields.length > 0);

  function submit(event: FormEvent) {
    event.preventDefault();
    signUp.mutate({ username, password, role, keySize }, { onSettled: () => setPassword('') });
  }

  return (
    <form onSubmit={submit} noValidate className="stack">
      <Field
        label="Username"
        name="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        hint="3 to 64 letters, digits, dots, dashes or underscores."
        required
        error={usernameError}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint={`At least ${PASSWORD_MIN_LENGTH} characters. It also protects your private key: it cannot be recovered.`}
        required
        error={fieldError(error, 'password')}
      />
      <fieldset>
        <legend>I am signing up as</legend>
        <label className="choice">
          <input type="radio" name="role" value="organization" checked={role === 'organization'} onChange={() => setRole('organization')} />
          Organization
        </label>
        <label className="choice">
          <input type="radio" name="role" value="consultant" checked={role === 'consultant'} onChange={() => setRole('consultant')} />
          Consultant
        </label>
      </fieldset>
      <fieldset>
        <legend>Key size</legend>
        <label className="choice">
          <input type="radio" name="keySize" value="2048" checked={keySize === 2048} onChange={() => setKeySize(2048)} />
          2048-bit RSA (recommended)
        </label>
        <label className="choice">
          <input type="radio" name="keySize" value="4096" checked={keySize === 4096} onChange={() => setKeySize(4096)} />
          4096-bit RSA
        </label>
        <p className="hint">A 4096-bit key is stronger but takes longer to create, and every download is a little slower.</p>
      </fieldset>
      <ErrorAlert error={shownInline ? null : error} />
      <button type="submit" className="button-primary" disabled={signUp.isPending}>
        {signUp.isPending ? <Spinner label="Creating your key pair…" /> : 'Sign up'}
      </button>
    </form>
  );
}
