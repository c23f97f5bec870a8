import { isApiError } from '@sfe/api-client';
import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { describeError, fieldError } from '../../../lib/errors.ts';
import type { MfaChallengeResponse } from '@sfe/contract';
import { needsSecondFactor, useSignIn } from '../api/auth.ts';
import { MfaStep } from './mfa-step.tsx';

/** Codes that concern the account named in the Username field. */
const ACCOUNT_CODES = new Set(['ACCOUNT_LOCKED', 'ACCOUNT_DISABLED']);

export function SignInForm() {
  const signIn = useSignIn();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [challenge, setChallenge] = useState<MfaChallengeResponse | null>(null);
  const error = signIn.error;
  const accountError = isApiError(error) && ACCOUNT_CODES.has(error.code) ? describeError(error).message : undefined;
  const formError = error && !accountError && !(isApiError(error) && error.fields.length > 0) ? error : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    signIn.mutate(
      { username, password },
      // The password leaves component state as soon as the attempt is answered.
      {
        onSettled: () => setPassword(''),
        onSuccess: (answer) => {
          if (needsSecondFactor(answer)) setChallenge(answer);
        },
      },
    );
  }

  if (challenge) {
    return (
      <MfaStep
        challenge={challenge}
        onCancel={() => {
          setChallenge(null);
          signIn.reset();
        }}
      />
    );
  }

  return (
    <form onSubmit={submit} noValidate className="stack">
      <Field
        label="Username"
        name="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        required
        error={fieldError(error, 'username') ?? accountError}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        error={fieldError(error, 'password')}
      />
      <ErrorAlert error={formError} />
      <button type="submit" className="button-primary" disabled={signIn.isPending}>
        {signIn.isPending ? <Spinner label="Signing in…" /> : 'Sign in'}
      </button>
    </form>
  );
}
